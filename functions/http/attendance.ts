import { z } from "zod";
import { attendanceStatuses, attendanceSources } from "../../domain/db/schema/index.js";
import { attendancePolicyOf, defaultAttendancePolicy, setAttendancePolicy } from "../../domain/attendance/attendance-policy.js";
import { checkIn, checkInCodeSeenBy, closeCheckIn, openCheckIn } from "../../domain/attendance/check-in.js";
import { attendanceCsv, attendanceReportSeenBy } from "../../domain/attendance/course-attendance.js";
import { type SessionAttendance, sessionAttendanceSeenBy } from "../../domain/attendance/session-attendance.js";
import { takeAttendance } from "../../domain/attendance/take-attendance.js";
import { sessionCourse } from "../../domain/schedule/session-view.js";
import { courseMember, courseStaff, type Locator } from "../platform/http/access.js";
import { decodeCursor, nextLink, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { isoOrNull } from "./schemas/dates.js";
import { wantsCsv } from "./schemas/csv.js";

const iso = z.iso.datetime();
const courseParams = z.object({ courseId: z.uuid() });
const sessionParams = z.object({ classSessionId: z.uuid() });
const courseOfTheSession: Locator = { describe: "the session's course", resolve: (params, db) => sessionCourse(db, params.classSessionId as string) };
// Instructors and graders (teaching assistants) take attendance; a section-scoped one for their sections' learners.
const sessionStaff = courseStaff(["instructor", "grader"], courseOfTheSession);
const status = z.enum(attendanceStatuses);
const percent = z.number().gt(0).max(100);

// ---- policy

const policyShape = {
  selfCheckIn: z.boolean().default(defaultAttendancePolicy.selfCheckIn).meta({ description: "Learners may check in themselves with the code staff show" }),
  editWindowHours: z.number().int().min(0).max(24 * 365).default(defaultAttendancePolicy.editWindowHours).meta({ description: "Hours after a session ends during which staff change marks freely; later changes need a reason and are audited" }),
  lowThresholdPercent: percent.nullable().default(null).meta({ description: "Learners below this rate get a low-attendance alert (null: none)" }),
  gradeCategory: z.string().trim().min(1).max(60).nullable().default(null).meta({ description: "The attendance rate counts as one result in this gradebook category (null: not graded)" }),
  minRateForCompletion: percent.nullable().default(null).meta({ description: "Completing the course needs at least this rate (null: no minimum)" }),
  leaveExtendsDueDates: z.boolean().default(defaultAttendancePolicy.leaveExtendsDueDates).meta({ description: "Approved leave moves due dates inside it to its end" }),
};
const policySchema = z
  .object({
    courseId: z.uuid(),
    selfCheckIn: z.boolean(),
    editWindowHours: z.number().int(),
    lowThresholdPercent: z.number().nullable(),
    gradeCategory: z.string().nullable(),
    minRateForCompletion: z.number().nullable(),
    leaveExtendsDueDates: z.boolean(),
    version: z.number().int().meta({ description: "0 while the course uses the defaults" }),
  })
  .meta({ id: "AttendancePolicy" });

route({
  name: "attendance-policy-get",
  method: "GET",
  path: "/v1/courses/{courseId}/attendance-policy",
  access: courseStaff(["instructor", "grader"]),
  summary: "The course's attendance policy (the defaults until an instructor sets one)",
  tags: ["attendance"],
  params: courseParams,
  responses: { 200: { description: "The policy", body: policySchema } },
  handler: async ({ params }, ctx) => ({ status: 200, body: await attendancePolicyOf(ctx.db, params.courseId) }),
});

route({
  name: "attendance-policy-set",
  method: "PUT",
  path: "/v1/courses/{courseId}/attendance-policy",
  access: courseStaff(["instructor"]),
  summary: "Set the course's attendance policy (omitted settings take their defaults); audited",
  tags: ["attendance"],
  params: courseParams,
  body: z.object(policyShape),
  responses: { 200: { description: "The policy", body: policySchema }, 404: { description: "`COURSE_NOT_FOUND`" } },
  handler: async ({ params, body }, ctx) => {
    const policy = unwrap(await ctx.transaction((tx) => setAttendancePolicy(ctx.domain(tx), params.courseId, body)));
    return { status: 200, body: policy };
  },
});

// ---- taking attendance

const rateSchema = z.object({ present: z.number().int(), late: z.number().int(), absent: z.number().int(), excused: z.number().int(), ratePercent: z.number().nullable() });
const sessionAttendanceSchema = z
  .object({
    session: z.object({
      id: z.uuid(),
      courseId: z.uuid(),
      sectionId: z.uuid().nullable(),
      title: z.string(),
      startsAt: iso,
      endsAt: iso,
      status: z.enum(["scheduled", "cancelled"]),
      checkInOpenUntil: iso.nullable(),
      editWindowEndsAt: iso.meta({ description: "Later changes need a reason and are audited" }),
    }),
    items: z.array(
      z.object({
        userId: z.uuid(),
        displayName: z.string(),
        status: z.enum([...attendanceStatuses, "unmarked"]),
        note: z.string().nullable(),
        source: z.enum(attendanceSources).nullable(),
        leaveApplicationId: z.uuid().nullable(),
        markedAt: iso.nullable(),
      }),
    ),
    rate: rateSchema.meta({ description: "Over the learners in the viewer's view (a section-scoped viewer: their sections'): (present + late) / (present + late + absent)" }),
  })
  .meta({ id: "SessionAttendance" });

type SessionAttendanceBody = z.input<typeof sessionAttendanceSchema>;
const sessionAttendanceBody = (v: SessionAttendance): SessionAttendanceBody => ({
  session: { ...v.session, startsAt: v.session.startsAt.toISOString(), endsAt: v.session.endsAt.toISOString(), checkInOpenUntil: isoOrNull(v.session.checkInOpenUntil), editWindowEndsAt: v.session.editWindowEndsAt.toISOString() },
  items: v.items.map((i) => ({ ...i, markedAt: isoOrNull(i.markedAt) })),
  rate: v.rate,
});

route({
  name: "session-attendance-get",
  method: "GET",
  path: "/v1/sessions/{classSessionId}/attendance",
  access: sessionStaff,
  summary: "A session's roster with its marks (unmarked learners listed as such) and the session's rate",
  description: "A staff member scoped to sections sees their sections' learners.",
  tags: ["attendance"],
  params: sessionParams,
  responses: { 200: { description: "The roster", body: sessionAttendanceSchema }, 404: { description: "`CLASS_SESSION_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const view = unwrap(await sessionAttendanceSeenBy(ctx.db, params.classSessionId, ctx.caller, ctx.now()));
    return { status: 200, body: sessionAttendanceBody(view), headers: { "cache-control": "private, no-cache" } };
  },
});

const markSchema = z.object({ userId: z.uuid(), status, note: z.string().trim().max(500).nullable().default(null) });

route({
  name: "session-attendance-take",
  method: "PUT",
  path: "/v1/sessions/{classSessionId}/attendance",
  access: sessionStaff,
  summary: "Take or change attendance at a session: many learners in one request",
  description:
    "Only once the session has started and while it is not cancelled; every userId must be a learner expected at the session (else 422 `ATTENDANCE_NOT_EXPECTED` naming them, and nothing changes). " +
    "Learners left out keep their marks. After the policy's edit window a change needs a `reason` and is audited. A staff mark replaces a check-in or a leave excusal.",
  tags: ["attendance"],
  params: sessionParams,
  body: z.object({
    marks: z
      .array(markSchema)
      .min(1)
      .max(2000)
      .refine((marks) => new Set(marks.map((m) => m.userId)).size === marks.length, "each userId at most once"),
    reason: z.string().trim().min(1).max(500).optional().meta({ description: "Why, for a change after the edit window" }),
  }),
  responses: {
    200: { description: "The roster after the change, and how many marks changed", body: sessionAttendanceSchema.extend({ changed: z.number().int() }) },
    404: { description: "`CLASS_SESSION_NOT_FOUND`" },
    409: { description: "`ATTENDANCE_SESSION_NOT_STARTED`, `ATTENDANCE_SESSION_CANCELLED`" },
    422: { description: "`ATTENDANCE_NOT_EXPECTED` (with `userIds`), `ATTENDANCE_REASON_REQUIRED`" },
  },
  handler: async ({ params, body }, ctx) => {
    const view = unwrap(
      await ctx.transaction((tx) => takeAttendance(ctx.domain(tx), { sessionId: params.classSessionId, viewer: ctx.caller, marks: body.marks, reason: body.reason ?? null })),
    );
    return { status: 200, body: { ...sessionAttendanceBody(view), changed: view.changed } };
  },
});

// ---- self check-in

const codeSchema = z
  .object({
    sessionId: z.uuid(),
    code: z.string().meta({ description: "Show it to the room; it changes every periodSeconds" }),
    periodSeconds: z.number().int(),
    rotatesAt: iso,
    openUntil: iso,
  })
  .meta({ id: "CheckInCode" });
const codeBody = (c: { sessionId: string; code: string; periodSeconds: number; rotatesAt: Date; openUntil: Date }) => ({
  ...c,
  rotatesAt: c.rotatesAt.toISOString(),
  openUntil: c.openUntil.toISOString(),
});
const rules = (ctx: { platform: { settings: { ATTENDANCE_CODE_PERIOD_SECONDS: number; ATTENDANCE_LATE_AFTER_MINUTES: number } } }) => ({
  periodSeconds: ctx.platform.settings.ATTENDANCE_CODE_PERIOD_SECONDS,
  lateAfterMinutes: ctx.platform.settings.ATTENDANCE_LATE_AFTER_MINUTES,
});

route({
  name: "session-check-in-open",
  method: "POST",
  path: "/v1/sessions/{classSessionId}/check-in",
  access: sessionStaff,
  summary: "Open self check-in on a session; answers the code to show",
  description: "Only when the course's policy has selfCheckIn, during the session (from 15 minutes before its start), until `until` or the session's end.",
  tags: ["attendance"],
  params: sessionParams,
  body: z.object({ until: iso.optional().meta({ description: "Close check-in then (at the latest the session's end, the default)" }) }).optional(),
  responses: {
    200: { description: "Open; the current code", body: codeSchema },
    404: { description: "`CLASS_SESSION_NOT_FOUND`" },
    409: { description: "`CHECK_IN_DISABLED`, `CHECK_IN_CLOSED` (outside the session), `ATTENDANCE_SESSION_CANCELLED`" },
  },
  handler: async ({ params, body }, ctx) => {
    const until = body?.until ? new Date(body.until) : null;
    const code = unwrap(await ctx.transaction((tx) => openCheckIn(ctx.domain(tx), { sessionId: params.classSessionId, viewer: ctx.caller, until }, rules(ctx))));
    return { status: 200, body: codeBody(code), headers: { "cache-control": "no-store" } };
  },
});

route({
  name: "session-check-in-get",
  method: "GET",
  path: "/v1/sessions/{classSessionId}/check-in",
  access: sessionStaff,
  summary: "The check-in code to show now",
  tags: ["attendance"],
  params: sessionParams,
  responses: { 200: { description: "The current code", body: codeSchema }, 404: { description: "`CLASS_SESSION_NOT_FOUND`" }, 409: { description: "`CHECK_IN_CLOSED`" } },
  handler: async ({ params }, ctx) => {
    const code = unwrap(await checkInCodeSeenBy(ctx.db, { sessionId: params.classSessionId, viewer: ctx.caller }, rules(ctx), ctx.now()));
    return { status: 200, body: codeBody(code), headers: { "cache-control": "no-store" } };
  },
});

route({
  name: "session-check-in-close",
  method: "DELETE",
  path: "/v1/sessions/{classSessionId}/check-in",
  access: sessionStaff,
  summary: "Close self check-in (codes shown so far stop working)",
  tags: ["attendance"],
  params: sessionParams,
  responses: { 204: { description: "Closed" }, 404: { description: "`CLASS_SESSION_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => closeCheckIn(ctx.domain(tx), { sessionId: params.classSessionId, viewer: ctx.caller })));
    return { status: 204 };
  },
});

route({
  name: "session-check-in-submit",
  method: "POST",
  path: "/v1/sessions/{classSessionId}/check-in/code",
  access: courseMember(courseOfTheSession),
  summary: "Check in to a session with the code shown: present, or late some minutes after the start",
  description: "The code shown now and the one just before it are accepted. Wrong codes are limited per learner and session (429 after 5 in 5 minutes). A mark staff made is never overwritten.",
  tags: ["attendance"],
  params: sessionParams,
  body: z.object({ code: z.string().regex(/^\d{6}$/, "six digits") }),
  responses: {
    200: { description: "Checked in", body: z.object({ sessionId: z.uuid(), userId: z.uuid(), status: z.enum(["present", "late", "absent", "excused"]), markedAt: iso }) },
    404: { description: "`CLASS_SESSION_NOT_FOUND`" },
    409: { description: "`CHECK_IN_DISABLED`, `CHECK_IN_CLOSED`, `CHECK_IN_ALREADY_MARKED`, `ATTENDANCE_SESSION_CANCELLED`" },
    422: { description: "`CHECK_IN_CODE_INVALID` (wrong or expired), `ATTENDANCE_NOT_EXPECTED`" },
    429: { description: "`CHECK_IN_THROTTLED`, with Retry-After" },
  },
  handler: async ({ params, body }, ctx) => {
    const outcome = unwrap(await ctx.transaction((tx) => checkIn(ctx.domain(tx), { sessionId: params.classSessionId, userId: ctx.caller.userId, code: body.code }, rules(ctx))));
    return { status: 200, body: { ...outcome, markedAt: outcome.markedAt.toISOString() } };
  },
});

// ---- the course report

route({
  name: "course-attendance-get",
  method: "GET",
  path: "/v1/courses/{courseId}/attendance",
  access: courseMember(),
  summary: "Attendance: staff get the learners × sessions matrix (a page of learners); a learner their own row. JSON, or CSV",
  description:
    "Sessions that have started and are not cancelled, by start (at most 400: a longer range is refused, narrow from/to). Cells: present, late, absent, excused, unmarked, or null where the learner is not expected (another section's session). " +
    "Rates: (present + late) / (present + late + absent) in percent, null while nothing counts; an expected learner left unmarked at an ended session whose attendance was taken counts as absent. A learner's session rates count their own attendance only; a section-scoped viewer's, their sections' learners. CSV with format=csv or Accept: text/csv; its last row holds the session rates.",
  tags: ["attendance"],
  params: courseParams,
  query: z.object({
    ...pageQuery,
    format: z.enum(["json", "csv"]).optional(),
    from: iso.optional().meta({ description: "Sessions starting at or after this instant" }),
    to: iso.optional().meta({ description: "Sessions starting before this instant" }),
    sectionId: z.uuid().optional().meta({ description: "Staff: only this section's learners and sessions (a scoped staff member gets theirs by default)" }),
  }),
  responses: {
    200: {
      description: "A page of the report",
      body: z.object({
        sessions: z.array(z.object({ id: z.uuid(), title: z.string(), sectionId: z.uuid().nullable(), startsAt: iso, endsAt: iso, rate: rateSchema })),
        items: z.array(
          z.object({
            userId: z.uuid(),
            displayName: z.string(),
            email: z.string(),
            sectionId: z.uuid().nullable(),
            cells: z.record(z.string(), z.enum([...attendanceStatuses, "unmarked"]).nullable()),
            rate: rateSchema,
          }),
        ),
        nextCursor: z.string().nullable(),
      }),
      otherContent: { "text/csv": z.string().meta({ description: "One row per learner, then the session rates" }) },
    },
    400: { description: "`INVALID_CURSOR`" },
    403: { description: "`SECTION_OUT_OF_SCOPE`" },
    404: { description: "`SECTION_NOT_FOUND`" },
    422: { description: "`ATTENDANCE_RANGE_TOO_LARGE`: more sessions than one report covers; narrow from/to" },
  },
  handler: async ({ params, query, request }, ctx) => {
    const after = decodeCursor(query.cursor, 1)?.[0];
    const report = unwrap(
      await attendanceReportSeenBy(
        ctx.db,
        params.courseId,
        ctx.caller,
        {
          limit: query.limit,
          ...(typeof after === "string" ? { afterUserId: after } : {}),
          ...(query.from ? { from: new Date(query.from) } : {}),
          ...(query.to ? { to: new Date(query.to) } : {}),
          ...(query.sectionId ? { section: query.sectionId } : {}),
        },
        ctx.now(),
      ),
    );
    const page = paginate(report.rows, query.limit, (r) => [r.userId]);
    const link = nextLink(request.url, page.nextCursor);
    if (wantsCsv(query.format, request)) {
      return {
        raw: {
          status: 200,
          headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="attendance-${params.courseId}.csv"`, "cache-control": "private, no-store", ...link },
          body: attendanceCsv({ sessions: report.sessions, rows: page.items }),
        },
      };
    }
    return {
      status: 200,
      body: {
        sessions: report.sessions.map((s) => ({ ...s, startsAt: s.startsAt.toISOString(), endsAt: s.endsAt.toISOString() })),
        items: page.items,
        nextCursor: page.nextCursor,
      },
      headers: { ...link, "cache-control": "private, no-cache", vary: "Accept" },
    };
  },
});
