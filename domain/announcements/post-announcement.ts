import { and, eq } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { announcements, sections } from "../db/schema/index.js";
import type { CourseViewer } from "../catalog/viewer.js";
import { viewerScope } from "../sections/staff-scope.js";
import type { DomainContext } from "../shared/context.js";
import { renderMarkdown } from "../shared/markdown.js";
import { fail, ok, type Result } from "../shared/result.js";
import { checkBody, checkPublishAt } from "./announcement-rules.js";
import { announcementColumns, type AnnouncementView } from "./announcement-view.js";
import type { AnnouncementErrorCode } from "./announcements.errors.js";
import { publishAnnouncements } from "./publish-announcement.js";

export interface NewAnnouncement {
  title: string;
  body: string;
  sectionId?: string | null;
  publishAt?: Date;
  urgent?: boolean;
}

/**
 * Whether staff member `viewer` may address `sectionId` (null: the whole course): the section must be the
 * course's (422 otherwise), and a section-scoped instructor writes only to their own sections.
 */
export async function checkAudience(db: Executor, courseId: string, sectionId: string | null, viewer: Pick<CourseViewer, "userId" | "isAdmin">): Promise<Result<null, AnnouncementErrorCode>> {
  if (sectionId !== null) {
    const [section] = await db.select({ id: sections.id }).from(sections).where(and(eq(sections.id, sectionId), eq(sections.courseId, courseId)));
    if (!section) return fail("ANNOUNCEMENT_SECTION_INVALID", "The course has no such section.");
  }
  const scope = await viewerScope(db, courseId, viewer);
  if (scope && (sectionId === null || !scope.includes(sectionId))) return fail("SECTION_OUT_OF_SCOPE", "You are scoped to sections of this course: announce to one of them.");
  return ok(null);
}

/** Posts an announcement: published now (its event recorded in this transaction), or scheduled for the timer. */
export async function postAnnouncement(ctx: DomainContext, courseId: string, input: NewAnnouncement, viewer: CourseViewer): Promise<Result<AnnouncementView, AnnouncementErrorCode>> {
  const body = checkBody(input.body);
  if (!body.ok) return body;
  const now = ctx.now();
  const publishAt = checkPublishAt(input.publishAt, now);
  if (!publishAt.ok) return publishAt;
  const sectionId = input.sectionId ?? null;
  const audience = await checkAudience(ctx.db, courseId, sectionId, viewer);
  if (!audience.ok) return audience;
  const id = ctx.newId();
  await ctx.db.insert(announcements).values({
    id,
    courseId,
    sectionId,
    authorUserId: viewer.userId,
    title: input.title,
    bodyMarkdown: input.body,
    bodyHtml: renderMarkdown(input.body),
    urgent: input.urgent ?? false,
    publishAt: publishAt.value,
    createdAt: now,
    updatedAt: now,
  });
  if (publishAt.value.getTime() <= now.getTime()) await publishAnnouncements(ctx, [id]);
  const [row] = await ctx.db.select(announcementColumns).from(announcements).where(eq(announcements.id, id));
  return ok({ ...(row as NonNullable<typeof row>), read: false });
}
