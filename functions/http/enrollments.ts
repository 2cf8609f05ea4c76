import { z } from "zod";
import { type EnrollmentStatus, enrollmentStatuses } from "../../domain/db/schema/index.js";
import { enroll } from "../../domain/enrollment/enroll.js";
import { acceptInvitation, inviteToCourse } from "../../domain/enrollment/invitations.js";
import { acceptOffer, declineOffer, leaveCourse } from "../../domain/enrollment/leave.js";
import { listMyEnrollments } from "../../domain/enrollment/list-enrollments.js";
import { courseEnrollmentsSeenBy } from "../../domain/sections/enrollments-seen-by.js";
import { anyOf, authenticated, courseStaff, owner } from "../platform/http/access.js";
import { decodeCursor, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { enrollmentBody, enrollmentSchema } from "./schemas/enrollment.js";

const courseParams = z.object({ courseId: z.uuid() });

route({
  name: "enrollments-create",
  method: "POST",
  path: "/v1/courses/{courseId}/enrollments",
  access: authenticated,
  summary: "Enroll yourself, or (staff, admins) enroll a learner by `userId`",
  description:
    "A full course with a waitlist puts the learner in line: `status` is `waitlisted` with `position`. Send an Idempotency-Key: a retry returns the first answer.",
  tags: ["enrollment"],
  idempotent: true,
  params: courseParams,
  body: z.object({ userId: z.uuid().optional() }).optional(),
  responses: {
    201: { description: "Enrolled or waitlisted", body: enrollmentSchema },
    409: { description: "`COURSE_NOT_PUBLISHED`, `ENROLLMENT_CLOSED`, `COURSE_FULL`, `ALREADY_ENROLLED`, `PREREQUISITES_MISSING`, `COURSE_ARCHIVED`" },
    403: { description: "`FORBIDDEN`, `EMAIL_NOT_VERIFIED` (confirm your address first; see AUTH_UNVERIFIED_ACCESS)" },
    404: { description: "`COURSE_NOT_FOUND`, `USER_NOT_FOUND`" },
  },
  handler: async ({ params, body }, ctx) => {
    const { caller } = ctx;
    const userId = body?.userId ?? caller.userId;
    const forSomeoneElse = userId !== caller.userId;
    // Enrolling someone else is for the course's instructors and admins. (Staff enrolling themselves are
    // recognised by enroll, in the read it makes anyway.)
    if (forSomeoneElse && !caller.isAdmin && (await caller.roleIn(params.courseId)) !== "instructor") {
      throw new ProblemError("FORBIDDEN", { detail: "Only the course's instructors and admins enroll other users." });
    }
    const source = forSomeoneElse || caller.isAdmin ? "staff" : "self";
    const unverifiedAccess = ctx.platform.settings.AUTH_UNVERIFIED_ACCESS;
    const enrollment = unwrap(await ctx.transaction((tx) => enroll(ctx.domain(tx), { courseId: params.courseId, userId, source, unverifiedAccess })));
    return { status: 201, body: enrollmentBody(enrollment), headers: { location: `/api/v1/courses/${params.courseId}/enrollments/${userId}` } };
  },
});

route({
  name: "enrollments-list",
  method: "GET",
  path: "/v1/courses/{courseId}/enrollments",
  access: courseStaff(["instructor", "grader"]),
  summary: "The course's enrollments in join order, with waitlist positions",
  description: "A grader scoped to sections sees only the learners placed in their sections.",
  tags: ["enrollment"],
  params: courseParams,
  query: z.object({
    ...pageQuery,
    status: z
      .string()
      .transform((s) => s.split(","))
      .pipe(z.array(z.enum(enrollmentStatuses)))
      .optional()
      .meta({ description: "Comma-separated statuses, e.g. waitlisted,offered" }),
  }),
  responses: {
    200: { description: "A page of enrollments", body: pageOf(enrollmentSchema.extend({ displayName: z.string(), email: z.string() })) },
  },
  handler: async ({ params, query, request }, ctx) => {
    const after = decodeCursor(query.cursor, 1)?.[0];
    const rows = await courseEnrollmentsSeenBy(ctx.db, params.courseId, ctx.caller, {
      limit: query.limit,
      ...(query.status ? { statuses: query.status as EnrollmentStatus[] } : {}),
      ...(typeof after === "number" ? { afterSeq: after } : {}),
    });
    const page = paginate(rows, query.limit, (r) => [r.seq]);
    return {
      status: 200,
      body: { items: page.items.map((r) => ({ ...enrollmentBody(r), displayName: r.displayName, email: r.email })), nextCursor: page.nextCursor },
      headers: nextLink(request.url, page.nextCursor),
    };
  },
});

route({
  name: "enrollments-delete",
  method: "DELETE",
  path: "/v1/courses/{courseId}/enrollments/{userId}",
  access: anyOf(owner(), courseStaff(["instructor"])),
  summary: "Drop out (yourself) or remove a learner (instructors); the seat goes to the next in line",
  tags: ["enrollment"],
  params: z.object({ courseId: z.uuid(), userId: z.uuid() }),
  responses: { 204: { description: "Ended" }, 404: { description: "`ENROLLMENT_NOT_FOUND`, `COURSE_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const by = params.userId === ctx.caller.userId ? "learner" : "staff";
    unwrap(await ctx.transaction((tx) => leaveCourse(ctx.domain(tx), { ...params, by })));
    return { status: 204 };
  },
});

for (const [action, operation] of [
  ["accept", acceptOffer],
  ["decline", declineOffer],
] as const) {
  route({
    name: `enrollments-offer-${action}`,
    method: "POST",
    path: `/v1/courses/{courseId}/enrollments/offer/${action}`,
    access: authenticated,
    summary: action === "accept" ? "Take the seat you were offered" : "Turn down the seat you were offered",
    tags: ["enrollment"],
    params: courseParams,
    responses: { 200: { description: "Your enrollment", body: enrollmentSchema }, 409: { description: "`NO_OPEN_OFFER`" }, 410: { description: "`OFFER_EXPIRED`" }, 404: { description: "`COURSE_NOT_FOUND`" } },
    handler: async ({ params }, ctx) => {
      const enrollment = unwrap(await ctx.transaction((tx) => operation(ctx.domain(tx), params.courseId, ctx.caller.userId)));
      return { status: 200, body: enrollmentBody(enrollment) };
    },
  });
}

route({
  name: "me-enrollments-list",
  method: "GET",
  path: "/v1/me/enrollments",
  access: authenticated,
  summary: "Your enrollments, newest first",
  tags: ["me"],
  query: z.object(pageQuery),
  responses: { 200: { description: "A page of enrollments", body: pageOf(enrollmentSchema.extend({ courseTitle: z.string() })) } },
  handler: async ({ query, request }, ctx) => {
    const before = decodeCursor(query.cursor, 1)?.[0];
    const rows = await listMyEnrollments(ctx.db, { userId: ctx.caller.userId, limit: query.limit, ...(typeof before === "string" ? { beforeId: before } : {}) });
    const page = paginate(rows, query.limit, (r) => [r.id]);
    return {
      status: 200,
      body: { items: page.items.map((r) => ({ ...enrollmentBody(r), courseTitle: r.courseTitle })), nextCursor: page.nextCursor },
      headers: nextLink(request.url, page.nextCursor),
    };
  },
});

route({
  name: "invitations-create",
  method: "POST",
  path: "/v1/courses/{courseId}/invitations",
  access: courseStaff(["instructor"]),
  summary: "Invite an email address to the course (the invitation is emailed)",
  tags: ["enrollment"],
  idempotent: true,
  params: courseParams,
  body: z.object({ email: z.email().max(254), expiresInHours: z.number().int().min(1).max(24 * 60).default(168) }),
  responses: { 201: { description: "Invited", body: z.object({ id: z.uuid(), courseId: z.uuid(), email: z.string(), expiresAt: z.iso.datetime() }) }, 404: { description: "`COURSE_NOT_FOUND`" }, 409: { description: "`COURSE_ARCHIVED`" } },
  handler: async ({ params, body }, ctx) => {
    const inv = unwrap(await ctx.transaction((tx) => inviteToCourse(ctx.domain(tx), { courseId: params.courseId, email: body.email, ttlHours: body.expiresInHours })));
    return { status: 201, body: { ...inv, expiresAt: inv.expiresAt.toISOString() } };
  },
});

route({
  name: "invitations-accept",
  method: "POST",
  path: "/v1/invitations/accept",
  access: authenticated,
  summary: "Accept an invitation with the token from its email",
  tags: ["enrollment"],
  body: z.object({ token: z.string().min(10).max(100) }),
  responses: {
    201: { description: "Enrolled or waitlisted", body: enrollmentSchema },
    403: { description: "`INVITATION_EMAIL_MISMATCH`, `EMAIL_NOT_VERIFIED` (confirm your address first)" },
    404: { description: "`INVITATION_NOT_FOUND`, `COURSE_NOT_FOUND`, `USER_NOT_FOUND`" },
    409: { description: "`INVITATION_USED`, `ALREADY_ENROLLED`, `COURSE_ARCHIVED`, `COURSE_NOT_PUBLISHED`, `ENROLLMENT_CLOSED`, `COURSE_FULL`, `PREREQUISITES_MISSING`" },
    410: { description: "`INVITATION_EXPIRED`" },
  },
  handler: async ({ body }, ctx) => {
    const enrollment = unwrap(await ctx.transaction((tx) => acceptInvitation(ctx.domain(tx), { token: body.token, userId: ctx.caller.userId, unverifiedAccess: ctx.platform.settings.AUTH_UNVERIFIED_ACCESS })));
    return { status: 201, body: enrollmentBody(enrollment) };
  },
});
