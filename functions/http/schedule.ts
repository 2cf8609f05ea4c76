import { z } from "zod";
import { cancelSessions, deleteSession } from "../../domain/schedule/cancel-sessions.js";
import { changeSession } from "../../domain/schedule/change-sessions.js";
import { courseSessions } from "../../domain/schedule/list-sessions.js";
import { createSeries, createSession, limitsOf } from "../../domain/schedule/manage-sessions.js";
import { mySchedule } from "../../domain/schedule/my-schedule.js";
import { sessionCourse, sessionSeenBy } from "../../domain/schedule/session-view.js";
import { authenticated, courseMember, courseStaff, type Locator } from "../platform/http/access.js";
import { notModified } from "../platform/http/etag.js";
import { decodeCursor, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import {
  cancelBody,
  dueEntryBody,
  oneOffBody,
  rangeQuery,
  scheduleEntryBody,
  scheduleSchema,
  scopeQuery,
  seriesBody,
  seriesBodyOut,
  seriesSchema,
  sessionBody,
  sessionChangeBody,
  sessionSchema,
} from "./schemas/schedule.js";
import { expectedVersion, versionEtag } from "./schemas/section.js";

const courseParams = z.object({ courseId: z.uuid() });
const sessionParams = z.object({ classSessionId: z.uuid() });
const theSessionsCourse: Locator = { describe: "the class session's course", resolve: (params, db) => sessionCourse(db, params.classSessionId as string) };
const placementProblems = {
  403: { description: "`SECTION_OUT_OF_SCOPE`: a section-scoped instructor schedules only for their sections" },
  404: { description: "`COURSE_NOT_FOUND`, `SECTION_NOT_FOUND`" },
  422: { description: "`TIME_ZONE_UNKNOWN`, `RECURRENCE_INVALID`, `RECURRENCE_TOO_LONG`, `SCHEDULE_STAFF_NOT_IN_COURSE`" },
};
/** The most sessions (and due dates) one `me/schedule` answer carries. */
const SCHEDULE_LIMIT = 1000;

route({
  name: "class-sessions-create",
  method: "POST",
  path: "/v1/courses/{courseId}/sessions",
  access: courseStaff(["instructor"]),
  summary: "Schedule a one-off class session (local date and time in an IANA zone)",
  tags: ["schedule"],
  idempotent: true,
  params: courseParams,
  body: oneOffBody,
  responses: { 201: { description: "Scheduled", body: sessionSchema }, ...placementProblems },
  handler: async ({ params, body }, ctx) => {
    const session = unwrap(await ctx.transaction((tx) => createSession(ctx.domain(tx), params.courseId, body, ctx.caller)));
    return { status: 201, body: sessionBody(session), headers: { location: `/api/v1/sessions/${session.id}`, etag: versionEtag(session) } };
  },
});

route({
  name: "session-series-create",
  method: "POST",
  path: "/v1/courses/{courseId}/session-series",
  access: courseStaff(["instructor"]),
  summary: "Schedule a weekly series of class sessions; its occurrences are made at once",
  description:
    "Occurrences keep their local time across daylight-saving changes (the UTC time moves). A rule must end: `until` is required, and a rule spans at most about two years and `SCHEDULE_MAX_OCCURRENCES` occurrences (422 `RECURRENCE_TOO_LONG`).",
  tags: ["schedule"],
  idempotent: true,
  params: courseParams,
  body: seriesBody,
  responses: { 201: { description: "Scheduled", body: seriesSchema }, ...placementProblems },
  handler: async ({ params, body }, ctx) => {
    const limits = limitsOf(ctx.platform.settings.SCHEDULE_MAX_OCCURRENCES);
    const made = unwrap(await ctx.transaction((tx) => createSeries(ctx.domain(tx), params.courseId, body, ctx.caller, limits)));
    return { status: 201, body: seriesBodyOut(made.series, made.occurrences) };
  },
});

route({
  name: "class-sessions-list",
  method: "GET",
  path: "/v1/courses/{courseId}/sessions",
  access: courseMember(),
  summary: "The course's class sessions in a range (a learner: the whole course's and their section's)",
  description: "Cancelled sessions are included (status `cancelled`). The range spans at most 366 days.",
  tags: ["schedule"],
  params: courseParams,
  query: z.object({ ...rangeQuery, sectionId: z.uuid().optional().meta({ description: "Staff: one section's sessions, with the whole course's" }), ...pageQuery }),
  responses: {
    200: { description: "Sessions by start time", body: pageOf(sessionSchema) },
    400: { description: "`SCHEDULE_RANGE_INVALID`, `INVALID_CURSOR`" },
    403: { description: "`SECTION_OUT_OF_SCOPE`" },
    404: { description: "`COURSE_NOT_FOUND`, `SECTION_NOT_FOUND`" },
  },
  handler: async ({ params, query, request }, ctx) => {
    const after = decodeCursor(query.cursor, 2);
    const rows = unwrap(await courseSessions(ctx.db, params.courseId, ctx.caller, { from: new Date(query.from), to: new Date(query.to), sectionId: query.sectionId, after, limit: query.limit }));
    const page = paginate(rows, query.limit, (s) => [s.startsAt.toISOString(), s.id]);
    return { status: 200, body: { items: page.items.map(sessionBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "class-sessions-get",
  method: "GET",
  path: "/v1/sessions/{classSessionId}",
  access: courseMember(theSessionsCourse),
  summary: "One class session (a learner: of the whole course or their section)",
  tags: ["schedule"],
  conditional: "read",
  params: sessionParams,
  responses: { 200: { description: "The session", body: sessionSchema }, 404: { description: "`CLASS_SESSION_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const session = unwrap(await sessionSeenBy(ctx.db, params.classSessionId, ctx.caller));
    const etag = versionEtag(session);
    if (notModified(request, etag)) return { status: 304, headers: { etag } };
    return { status: 200, body: sessionBody(session), headers: { etag } };
  },
});

route({
  name: "class-sessions-update",
  method: "PATCH",
  path: "/v1/sessions/{classSessionId}",
  access: courseStaff(["instructor"], theSessionsCourse),
  summary: "Change a class session (scope=this) or it and the rest of its series (scope=following)",
  description: [
    "scope=this: the session alone (a series occurrence becomes `detached`); `date`, `startTime`, `durationMinutes`, `timeZone` and the details.",
    "scope=following (series occurrences): from the series' first date the rule is changed in place; from a later one the series is split (the old rule ends the day before, a new series starts here).",
    "Occurrences from here on are then made to follow the new rule: detached (but this one), cancelled and later started ones are left alone; one whose date stays is moved in place (same id);",
    "one whose date the rule drops is deleted, or cancelled when approved leave excused learners there; new dates get new sessions. The answer is this session, or the series' next one when its date was dropped.",
    "A session where attendance was taken keeps its time: moving it (or, with scope=following, moving or dropping it) answers 409 `CLASS_SESSION_HAS_ATTENDANCE`; its title, place and link can change.",
    "Send the ETag you read as If-Match: a session changed since then answers 412.",
  ].join(" "),
  tags: ["schedule"],
  conditional: "update",
  params: sessionParams,
  query: scopeQuery,
  body: sessionChangeBody,
  responses: {
    200: { description: "Changed", body: sessionSchema },
    403: { description: "`SECTION_OUT_OF_SCOPE`" },
    404: { description: "`CLASS_SESSION_NOT_FOUND`" },
    409: { description: "`CLASS_SESSION_CANCELLED`, `CLASS_SESSION_HAS_ATTENDANCE`: attendance was taken at a session the change would move or drop" },
    422: { description: "`TIME_ZONE_UNKNOWN`, `RECURRENCE_INVALID`, `RECURRENCE_TOO_LONG`, `SCHEDULE_STAFF_NOT_IN_COURSE`" },
  },
  handler: async ({ params, query, body, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    const options = { scope: query.scope, expectedVersion: version, maxOccurrences: ctx.platform.settings.SCHEDULE_MAX_OCCURRENCES };
    const session = unwrap(await ctx.transaction((tx) => changeSession(ctx.domain(tx), params.classSessionId, body, ctx.caller, options)));
    return { status: 200, body: sessionBody(session), headers: { etag: versionEtag(session) } };
  },
});

route({
  name: "class-sessions-delete",
  method: "DELETE",
  path: "/v1/sessions/{classSessionId}",
  access: courseStaff(["instructor"], theSessionsCourse),
  summary: "Delete a class session scheduled by mistake (nobody is emailed; cancel tells learners)",
  description: "A series occurrence's date becomes an exception of its series. A session with attendance answers 409 `CLASS_SESSION_HAS_ATTENDANCE`: cancel it instead.",
  tags: ["schedule"],
  conditional: "update",
  params: sessionParams,
  responses: {
    204: { description: "Deleted" },
    403: { description: "`SECTION_OUT_OF_SCOPE`" },
    404: { description: "`CLASS_SESSION_NOT_FOUND`" },
    409: { description: "`CLASS_SESSION_HAS_ATTENDANCE`" },
  },
  handler: async ({ params, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    unwrap(await ctx.transaction((tx) => deleteSession(ctx.domain(tx), params.classSessionId, ctx.caller, version)));
    return { status: 204 };
  },
});

route({
  name: "class-sessions-cancel",
  method: "POST",
  path: "/v1/sessions/{classSessionId}/cancel",
  access: courseStaff(["instructor"], theSessionsCourse),
  summary: "Cancel a class session (scope=this) or it and every later scheduled occurrence of its series (scope=following)",
  description:
    "scope=following cancels this session and the later occurrences that have not started. Learners expected at the cancelled sessions get one email per cancel, listing them. Cancelled sessions stay listed, struck out. A session where attendance was taken took place and is not cancelled: 409 `CLASS_SESSION_HAS_ATTENDANCE`.",
  tags: ["schedule"],
  conditional: "update",
  params: sessionParams,
  body: cancelBody,
  responses: {
    200: { description: "The sessions cancelled", body: z.object({ items: z.array(sessionSchema) }) },
    403: { description: "`SECTION_OUT_OF_SCOPE`" },
    404: { description: "`CLASS_SESSION_NOT_FOUND`" },
    409: { description: "`CLASS_SESSION_CANCELLED`, `CLASS_SESSION_HAS_ATTENDANCE`" },
  },
  handler: async ({ params, body, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    const cancelled = unwrap(await ctx.transaction((tx) => cancelSessions(ctx.domain(tx), params.classSessionId, { ...body, expectedVersion: version }, ctx.caller)));
    return { status: 200, body: { items: cancelled.map(sessionBody) } };
  },
});

route({
  name: "me-schedule",
  method: "GET",
  path: "/v1/me/schedule",
  access: authenticated,
  summary: "Your class sessions (as a learner and as staff) and your assessments' due dates in a range",
  description: `The range spans at most 366 days; at most ${SCHEDULE_LIMIT} sessions and due dates each (\`truncated\` says when more fell in it).`,
  tags: ["schedule"],
  query: z.object(rangeQuery),
  responses: { 200: { description: "Your schedule", body: scheduleSchema }, 400: { description: "`SCHEDULE_RANGE_INVALID`" } },
  handler: async ({ query }, ctx) => {
    const schedule = unwrap(await mySchedule(ctx.db, ctx.caller.userId, new Date(query.from), new Date(query.to), SCHEDULE_LIMIT));
    return {
      status: 200,
      body: { from: new Date(query.from).toISOString(), to: new Date(query.to).toISOString(), sessions: schedule.sessions.map(scheduleEntryBody), dueDates: schedule.dueDates.map(dueEntryBody), truncated: schedule.truncated },
    };
  },
});
