import { z } from "zod";
import { MAX_BODY_CHARS } from "../../domain/announcements/announcement-rules.js";
import { announcementCourse, announcementSeenBy, type AnnouncementView } from "../../domain/announcements/announcement-view.js";
import { changeAnnouncement, deleteAnnouncement, markAnnouncementRead } from "../../domain/announcements/change-announcement.js";
import { courseAnnouncements } from "../../domain/announcements/list-announcements.js";
import { postAnnouncement } from "../../domain/announcements/post-announcement.js";
import { courseMember, courseStaff, type Locator } from "../platform/http/access.js";
import { notModified, versionFromIfMatch } from "../platform/http/etag.js";
import { decodeCursorAs, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { versionEtag } from "./schemas/section.js";

const courseParams = z.object({ courseId: z.uuid() });
const announcementParams = z.object({ announcementId: z.uuid() });
const theAnnouncementsCourse: Locator = { describe: "the announcement's course", resolve: (params, db) => announcementCourse(db, params.announcementId as string) };
// 20,000 characters of Markdown fit (JSON may spell a character as a 6-byte \u escape); a larger body is 413.
const BODY_LIMIT_BYTES = 160 * 1024;

const title = z.string().trim().min(1).max(200);
const markdown = z.string().min(1).meta({ description: `Markdown (no raw HTML), at most ${MAX_BODY_CHARS} characters (422 \`ANNOUNCEMENT_TOO_LONG\`)` });
const sectionId = z.uuid().nullable().meta({ description: "One section of the course; null or absent: the whole course" });
const publishAt = z.iso.datetime({ offset: true }).meta({ description: "When to publish (default now): at most a minute past, at most a year ahead" });

const createBody = z.object({ title, body: markdown, sectionId: sectionId.optional(), publishAt: publishAt.optional(), urgent: z.boolean().optional() });
const changeBody = z
  .object({ title: title.optional(), body: markdown.optional(), sectionId: sectionId.optional(), publishAt: publishAt.optional(), urgent: z.boolean().optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: "change at least one field" });

const announcementSchema = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    sectionId: z.uuid().nullable(),
    authorUserId: z.uuid().nullable(),
    title: z.string(),
    body: z.string().meta({ description: "The Markdown as written" }),
    bodyHtml: z.string().meta({ description: "The Markdown rendered to sanitised HTML" }),
    urgent: z.boolean(),
    status: z.enum(["scheduled", "published"]),
    publishAt: z.iso.datetime(),
    publishedAt: z.iso.datetime().nullable(),
    read: z.boolean().meta({ description: "Whether you have read it" }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: "Announcement" });

const announcementBody = (a: AnnouncementView): z.infer<typeof announcementSchema> => ({
  id: a.id,
  courseId: a.courseId,
  sectionId: a.sectionId,
  authorUserId: a.authorUserId,
  title: a.title,
  body: a.bodyMarkdown,
  bodyHtml: a.bodyHtml,
  urgent: a.urgent,
  status: a.publishedAt ? "published" : "scheduled",
  publishAt: a.publishAt.toISOString(),
  publishedAt: a.publishedAt?.toISOString() ?? null,
  read: a.read,
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
});

// The reader's ETag adds their read state to the version (`"v3.r"`), so that 304 never hides a change of it.
const readerEtag = (a: AnnouncementView) => `"v${a.version}.${a.read ? "r" : "u"}"`;

/** The version an If-Match names (either kind of ETag this API issued); undefined without one, or `*`. */
const expectedVersion = (header: string | null) => versionFromIfMatch(header, /^"v(\d+)(?:\.[ru])?"$/);

const writeProblems = {
  403: { description: "`SECTION_OUT_OF_SCOPE`: a section-scoped instructor announces only to their sections" },
  422: { description: "`ANNOUNCEMENT_TOO_LONG`, `ANNOUNCEMENT_SECTION_INVALID`, `ANNOUNCEMENT_PUBLISH_AT_INVALID`" },
};

route({
  name: "announcements-create",
  method: "POST",
  path: "/v1/courses/{courseId}/announcements",
  access: courseStaff(["instructor"]),
  summary: "Post an announcement to the course or one section, now or scheduled",
  description:
    "Published now (publishAt absent or not later than now) or by the announcements timer within a minute of publishAt. Publishing notifies the course's active learners (of the section, when one is named) and its other staff, once each, by inbox, email, push and SMS as their preferences say; `urgent` ones reach push and SMS in quiet hours too.",
  tags: ["announcements"],
  idempotent: true,
  bodyLimitBytes: BODY_LIMIT_BYTES,
  params: courseParams,
  body: createBody,
  responses: { 201: { description: "Posted", body: announcementSchema }, 404: { description: "`COURSE_NOT_FOUND`" }, ...writeProblems },
  handler: async ({ params, body }, ctx) => {
    const input = { ...body, publishAt: body.publishAt === undefined ? undefined : new Date(body.publishAt) };
    const a = unwrap(await ctx.transaction((tx) => postAnnouncement(ctx.domain(tx), params.courseId, input, ctx.caller)));
    return { status: 201, body: announcementBody(a), headers: { location: `/api/v1/announcements/${a.id}`, etag: versionEtag(a) } };
  },
});

route({
  name: "announcements-list",
  method: "GET",
  path: "/v1/courses/{courseId}/announcements",
  access: courseMember(),
  summary: "The course's announcements, newest first, with your read state",
  description: "Learners: the published ones of the whole course and of their section. Staff: scheduled ones too (a section-scoped instructor: the whole course's and their sections').",
  tags: ["announcements"],
  params: courseParams,
  query: z.object(pageQuery),
  responses: {
    200: { description: "Announcements", body: pageOf(announcementSchema) },
    400: { description: "`INVALID_CURSOR`" },
    404: { description: "`COURSE_NOT_FOUND`" },
  },
  handler: async ({ params, query, request }, ctx) => {
    const position = decodeCursorAs(query.cursor, z.tuple([z.iso.datetime({ offset: true }), z.uuid()]));
    const after = position ? { publishAt: new Date(position[0]), id: position[1] } : undefined;
    const rows = unwrap(await courseAnnouncements(ctx.db, params.courseId, ctx.caller, { after, limit: query.limit }));
    const page = paginate(rows, query.limit, (a) => [a.publishAt.toISOString(), a.id]);
    return { status: 200, body: { items: page.items.map(announcementBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "announcements-get",
  method: "GET",
  path: "/v1/announcements/{announcementId}",
  access: courseMember(theAnnouncementsCourse),
  summary: "One announcement, with your read state",
  tags: ["announcements"],
  conditional: "read",
  params: announcementParams,
  responses: { 200: { description: "The announcement", body: announcementSchema }, 404: { description: "`ANNOUNCEMENT_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const a = unwrap(await announcementSeenBy(ctx.db, params.announcementId, ctx.caller));
    const etag = readerEtag(a);
    if (notModified(request, etag)) return { status: 304, headers: { etag } };
    return { status: 200, body: announcementBody(a), headers: { etag } };
  },
});

route({
  name: "announcements-update",
  method: "PATCH",
  path: "/v1/announcements/{announcementId}",
  access: courseStaff(["instructor"], theAnnouncementsCourse),
  summary: "Change an announcement (once published: correct its title and body only)",
  description:
    "Until published, every field may change (a publishAt of now publishes it now). Published: title and body corrections reach the inbox entries but notify nobody again; other changes answer 409 `ANNOUNCEMENT_PUBLISHED`. Send the ETag you read as If-Match: a changed announcement answers 412.",
  tags: ["announcements"],
  conditional: "update",
  bodyLimitBytes: BODY_LIMIT_BYTES,
  params: announcementParams,
  body: changeBody,
  responses: {
    200: { description: "Changed", body: announcementSchema },
    404: { description: "`ANNOUNCEMENT_NOT_FOUND`" },
    409: { description: "`ANNOUNCEMENT_PUBLISHED`" },
    ...writeProblems,
  },
  handler: async ({ params, body, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    const change = { ...body, publishAt: body.publishAt === undefined ? undefined : new Date(body.publishAt) };
    const a = unwrap(await ctx.transaction((tx) => changeAnnouncement(ctx.domain(tx), params.announcementId, change, ctx.caller, version)));
    return { status: 200, body: announcementBody(a), headers: { etag: versionEtag(a) } };
  },
});

route({
  name: "announcements-delete",
  method: "DELETE",
  path: "/v1/announcements/{announcementId}",
  access: courseStaff(["instructor"], theAnnouncementsCourse),
  summary: "Delete an announcement, with its inbox entries and its messages not sent yet (audited)",
  tags: ["announcements"],
  conditional: "update",
  params: announcementParams,
  responses: {
    204: { description: "Deleted" },
    403: { description: "`SECTION_OUT_OF_SCOPE`" },
    404: { description: "`ANNOUNCEMENT_NOT_FOUND`" },
  },
  handler: async ({ params, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    unwrap(await ctx.transaction((tx) => deleteAnnouncement(ctx.domain(tx), params.announcementId, ctx.caller, version)));
    return { status: 204 };
  },
});

route({
  name: "announcements-read",
  method: "POST",
  path: "/v1/announcements/{announcementId}/read",
  access: courseMember(theAnnouncementsCourse),
  summary: "Mark an announcement read (and its inbox entry); again: no change",
  tags: ["announcements"],
  params: announcementParams,
  responses: { 204: { description: "Read" }, 404: { description: "`ANNOUNCEMENT_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => markAnnouncementRead(ctx.domain(tx), params.announcementId, ctx.caller)));
    return { status: 204 };
  },
});
