import { z } from "zod";
import { courseSeenBy } from "../../domain/catalog/viewer.js";
import { listCatalog } from "../../domain/catalog/list-catalog.js";
import { archiveCourse, createCourse, publishCourse, updateCourse } from "../../domain/catalog/manage-course.js";
import { listStaff, removeStaff, setStaff } from "../../domain/catalog/staff.js";
import { courseRoles } from "../../domain/db/schema/index.js";
import { courseStaff, instructorAnywhere, publicAccess } from "../platform/http/access.js";
import { notModified } from "../platform/http/etag.js";
import { decodeCursor, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { courseBody, courseEtag, courseSchema, courseSettingsShape, staffBody, staffSchema, versionFromIfMatch } from "./schemas/course.js";
import { toDate } from "./schemas/dates.js";

const courseParams = z.object({ courseId: z.uuid() });

route({
  name: "courses-list",
  method: "GET",
  path: "/v1/courses",
  access: publicAccess,
  optionalToken: true,
  summary: "The catalog: published courses (and, for their staff, drafts)",
  tags: ["courses"],
  query: z.object({
    ...pageQuery,
    q: z.string().trim().min(1).max(200).optional().meta({ description: "Words to find in title and description" }),
    tag: z.string().trim().min(1).max(40).optional(),
    language: z.string().trim().min(2).max(35).optional(),
    hasSeats: z.enum(["true", "false"]).transform((v) => v === "true").optional(),
  }),
  responses: { 200: { description: "A page of courses", body: pageOf(courseSchema) } },
  handler: async ({ query, request }, ctx) => {
    const before = decodeCursor(query.cursor, 1)?.[0];
    const rows = await listCatalog(ctx.db, ctx.principal, {
      limit: query.limit,
      ...(query.q ? { q: query.q } : {}),
      ...(query.tag ? { tag: query.tag } : {}),
      ...(query.language ? { language: query.language } : {}),
      ...(query.hasSeats ? { hasSeats: true } : {}),
      ...(typeof before === "string" ? { beforeId: before } : {}),
    });
    const page = paginate(rows, query.limit, (c) => [c.id]);
    return { status: 200, body: { items: page.items.map(courseBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "courses-create",
  method: "POST",
  path: "/v1/courses",
  access: instructorAnywhere,
  summary: "Create a draft course; you become its instructor",
  tags: ["courses"],
  idempotent: true,
  body: z.object({
    title: courseSettingsShape.title,
    code: courseSettingsShape.code.default(null),
    description: courseSettingsShape.description.default(""),
    language: courseSettingsShape.language.default("en"),
    tags: courseSettingsShape.tags.default([]),
    capacity: courseSettingsShape.capacity.default(null),
    waitlistEnabled: courseSettingsShape.waitlistEnabled.default(true),
    waitlistMode: courseSettingsShape.waitlistMode.default("auto"),
    offerTtlHours: courseSettingsShape.offerTtlHours.default(48),
    selfEnrollment: courseSettingsShape.selfEnrollment.default(true),
    enrollmentOpensAt: courseSettingsShape.enrollmentOpensAt.default(null),
    enrollmentClosesAt: courseSettingsShape.enrollmentClosesAt.default(null),
    sequentialProgress: courseSettingsShape.sequentialProgress.default(false),
    prerequisiteCourseIds: courseSettingsShape.prerequisiteCourseIds.default([]),
    passPercent: courseSettingsShape.passPercent.default(60),
  }),
  responses: {
    201: { description: "Created", body: courseSchema },
    409: { description: "`COURSE_CODE_TAKEN`" },
    422: { description: "`INVALID_COURSE_SETTINGS`, `PREREQUISITE_CYCLE`" },
    404: { description: "`COURSE_NOT_FOUND`" },
  },
  handler: async ({ body }, ctx) => {
    const course = unwrap(
      await ctx.transaction((tx) =>
        createCourse(ctx.domain(tx), ctx.caller.userId, {
          ...body,
          enrollmentOpensAt: toDate(body.enrollmentOpensAt) ?? null,
          enrollmentClosesAt: toDate(body.enrollmentClosesAt) ?? null,
        }),
      ),
    );
    return { status: 201, body: courseBody(course), headers: { location: `/api/v1/courses/${course.id}`, etag: courseEtag(course) } };
  },
});

route({
  name: "courses-get",
  method: "GET",
  path: "/v1/courses/{courseId}",
  access: publicAccess,
  optionalToken: true,
  summary: "One course",
  tags: ["courses"],
  conditional: "read",
  params: courseParams,
  responses: { 200: { description: "The course", body: courseSchema }, 404: { description: "`COURSE_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const course = unwrap(await courseSeenBy(ctx.db, params.courseId, ctx.principal));
    const etag = courseEtag(course);
    const cache = course.status === "published" ? "public, max-age=0, must-revalidate" : "private, no-cache";
    if (notModified(request, etag)) return { status: 304, headers: { etag, "cache-control": cache } };
    return { status: 200, body: courseBody(course), headers: { etag, "cache-control": cache } };
  },
});

route({
  name: "courses-update",
  method: "PATCH",
  path: "/v1/courses/{courseId}",
  access: courseStaff(["instructor"]),
  summary: "Change a course's settings",
  description: "Send the ETag you read as If-Match: a course changed since then answers 412.",
  tags: ["courses"],
  conditional: "update",
  params: courseParams,
  body: z.object(Object.fromEntries(Object.entries(courseSettingsShape).map(([k, v]) => [k, v.optional()])) as { [K in keyof typeof courseSettingsShape]: z.ZodOptional<(typeof courseSettingsShape)[K]> }),
  responses: {
    200: { description: "Updated", body: courseSchema },
    409: { description: "`COURSE_ARCHIVED`, `COURSE_CODE_TAKEN`" },
    422: { description: "`INVALID_COURSE_SETTINGS`, `PREREQUISITE_CYCLE`" },
    404: { description: "`COURSE_NOT_FOUND`" },
  },
  handler: async ({ params, body, request }, ctx) => {
    const ifMatch = versionFromIfMatch(request.headers.get("if-match"));
    if (ifMatch === "unknown") throw new ProblemError("PRECONDITION_FAILED", { detail: "If-Match must be an ETag this API issued." });
    const { enrollmentOpensAt, enrollmentClosesAt, ...rest } = body;
    const patch = {
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
      ...(enrollmentOpensAt !== undefined ? { enrollmentOpensAt: toDate(enrollmentOpensAt) ?? null } : {}),
      ...(enrollmentClosesAt !== undefined ? { enrollmentClosesAt: toDate(enrollmentClosesAt) ?? null } : {}),
    };
    const course = unwrap(
      await ctx.transaction((tx) => updateCourse(ctx.domain(tx), params.courseId, patch, typeof ifMatch === "number" ? ifMatch : undefined)),
    );
    return { status: 200, body: courseBody(course), headers: { etag: courseEtag(course) } };
  },
});

for (const [action, operation, summary] of [
  ["publish", publishCourse, "Publish a draft course: it appears in the catalog and takes enrollments"],
  ["archive", archiveCourse, "Archive a course: it leaves the catalog and takes no more enrollments"],
] as const) {
  route({
    name: `courses-${action}`,
    method: "POST",
    path: `/v1/courses/{courseId}/${action}`,
    access: courseStaff(["instructor"]),
    summary,
    tags: ["courses"],
    params: courseParams,
    responses: { 200: { description: "The course", body: courseSchema }, 409: { description: "`INVALID_STATE_TRANSITION`" }, 404: { description: "`COURSE_NOT_FOUND`" } },
    handler: async ({ params }, ctx) => {
      const course = unwrap(await ctx.transaction((tx) => operation(ctx.domain(tx), params.courseId)));
      return { status: 200, body: courseBody(course), headers: { etag: courseEtag(course) } };
    },
  });
}

route({
  name: "courses-staff-list",
  method: "GET",
  path: "/v1/courses/{courseId}/staff",
  access: courseStaff(["instructor", "grader"]),
  summary: "The course's instructors and graders",
  tags: ["courses"],
  params: courseParams,
  responses: { 200: { description: "Staff", body: z.object({ items: z.array(staffSchema) }) } },
  handler: async ({ params }, ctx) => ({ status: 200, body: { items: (await listStaff(ctx.db, params.courseId)).map(staffBody) } }),
});

route({
  name: "courses-staff-add",
  method: "POST",
  path: "/v1/courses/{courseId}/staff",
  access: courseStaff(["instructor"]),
  summary: "Add a user to the course's staff, or change their role",
  tags: ["courses"],
  params: courseParams,
  body: z.object({ userId: z.uuid(), role: z.enum(courseRoles) }),
  responses: { 200: { description: "Staff after the change", body: z.object({ items: z.array(staffSchema) }) }, 404: { description: "`USER_NOT_FOUND`, `COURSE_NOT_FOUND`" }, 409: { description: "`LAST_INSTRUCTOR`" } },
  handler: async ({ params, body }, ctx) => {
    const staff = unwrap(await ctx.transaction((tx) => setStaff(ctx.domain(tx), { courseId: params.courseId, ...body })));
    return { status: 200, body: { items: staff.map(staffBody) } };
  },
});

route({
  name: "courses-staff-remove",
  method: "DELETE",
  path: "/v1/courses/{courseId}/staff/{userId}",
  access: courseStaff(["instructor"]),
  summary: "Remove a user from the course's staff",
  tags: ["courses"],
  params: z.object({ courseId: z.uuid(), userId: z.uuid() }),
  responses: { 204: { description: "Removed" }, 409: { description: "`LAST_INSTRUCTOR`" }, 404: { description: "`COURSE_NOT_FOUND`, `USER_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => removeStaff(ctx.domain(tx), params)));
    return { status: 204 };
  },
});
