import { and, eq } from "drizzle-orm";
import { Secret, TOTP } from "otpauth";
import type { Executor } from "../db/client.js";
import { type AttendanceStatus, attendanceMarks, classSessions } from "../db/schema/index.js";
import { countInWindow, retryAfterSeconds } from "../identity/login-throttle.js";
import { recordEvent } from "../outbox/record-event.js";
import { isExpectedAt } from "../schedule/attendees.js";
import type { StaffViewer } from "../schedule/session-view.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { AttendanceErrorCode } from "./attendance.errors.js";
import { attendancePolicyOf } from "./attendance-policy.js";
import { CHECK_IN_MAX_WRONG, CHECK_IN_THROTTLE_WINDOW_SECONDS, checkInClosesAt, checkInStatus, withinCheckInTimes } from "./attendance-rules.js";
import { type ClassSession, findClassSession, staffSession } from "./session-scope.js";

/** How codes are made: the period is a setting, the rest fixed. */
export interface CheckInRules {
  periodSeconds: number;
  lateAfterMinutes: number;
}

const DIGITS = 6;
const ALGORITHM = "SHA1";

export interface CheckInCode {
  sessionId: string;
  code: string;
  periodSeconds: number;
  /** The code shown changes at this instant (the one before it is still accepted for one more period). */
  rotatesAt: Date;
  openUntil: Date;
}

const codeAt = (secret: string, periodSeconds: number, now: Date) =>
  TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: ALGORITHM, digits: DIGITS, period: periodSeconds, timestamp: now.getTime() });

function codeView(session: ClassSession, secret: string, openUntil: Date, periodSeconds: number, now: Date): CheckInCode {
  const periodMs = periodSeconds * 1000;
  return {
    sessionId: session.id,
    code: codeAt(secret, periodSeconds, now),
    periodSeconds,
    rotatesAt: new Date((Math.floor(now.getTime() / periodMs) + 1) * periodMs),
    openUntil,
  };
}

const isOpen = (session: ClassSession, now: Date): session is ClassSession & { checkInSecret: string; checkInOpenUntil: Date } =>
  session.checkInSecret !== null && session.checkInOpenUntil !== null && session.checkInOpenUntil > now && withinCheckInTimes(session, now);

/**
 * Staff open self check-in on a session until `until` (never past its end; null: its end), during the session
 * only, when the course lets learners check in. Reopening keeps the session's secret, so the code on the screen
 * stays valid; closing forgets it.
 */
export async function openCheckIn(ctx: DomainContext, input: { sessionId: string; viewer: StaffViewer; until: Date | null }, rules: CheckInRules): Promise<Result<CheckInCode, AttendanceErrorCode>> {
  const found = await staffSession(ctx.db, input.sessionId, input.viewer, true);
  if (!found.ok) return found;
  const { session } = found.value;
  const now = ctx.now();
  if (session.status === "cancelled") return fail("ATTENDANCE_SESSION_CANCELLED");
  if (!(await attendancePolicyOf(ctx.db, session.courseId)).selfCheckIn) return fail("CHECK_IN_DISABLED", "Turn on selfCheckIn in the course's attendance policy first.");
  const closesAt = checkInClosesAt(session, input.until);
  if (!withinCheckInTimes(session, now) || closesAt <= now) {
    return fail("CHECK_IN_CLOSED", `Check-in can be open from shortly before the session starts until it ends (${session.endsAt.toISOString()}).`);
  }
  const secret = session.checkInSecret ?? new Secret({ size: 20 }).base32;
  await ctx.db.update(classSessions).set({ checkInSecret: secret, checkInOpenUntil: closesAt }).where(eq(classSessions.id, session.id));
  return ok(codeView(session, secret, closesAt, rules.periodSeconds, now));
}

/** The code to show now, while check-in is open. */
export async function checkInCodeSeenBy(db: Executor, input: { sessionId: string; viewer: StaffViewer }, rules: CheckInRules, now: Date): Promise<Result<CheckInCode, AttendanceErrorCode>> {
  const found = await staffSession(db, input.sessionId, input.viewer);
  if (!found.ok) return found;
  const { session } = found.value;
  if (!isOpen(session, now)) return fail("CHECK_IN_CLOSED");
  return ok(codeView(session, session.checkInSecret, session.checkInOpenUntil, rules.periodSeconds, now));
}

/** Closes check-in and forgets the secret: codes shown so far stop working at once. */
export async function closeCheckIn(ctx: DomainContext, input: { sessionId: string; viewer: StaffViewer }): Promise<Result<{ sessionId: string }, AttendanceErrorCode>> {
  const found = await staffSession(ctx.db, input.sessionId, input.viewer, true);
  if (!found.ok) return found;
  await ctx.db.update(classSessions).set({ checkInSecret: null, checkInOpenUntil: null }).where(eq(classSessions.id, input.sessionId));
  return ok({ sessionId: input.sessionId });
}

export interface CheckInOutcome {
  sessionId: string;
  userId: string;
  status: AttendanceStatus;
  markedAt: Date;
}

const throttleKey = (sessionId: string, userId: string) => `check-in:${sessionId}:${userId}`;

/**
 * A learner checks in with the code shown: present, or late after `lateAfterMinutes` from the start. The code of
 * the current period and of the one before are accepted. Tries are counted per learner and session before the
 * code is checked (a refused answer still commits its count), and only CHECK_IN_MAX_WRONG of them are checked in
 * the window, parallel ones included, so six digits cannot be guessed during a session. A mark already made by staff or leave is never overwritten; a
 * second check-in answers the first.
 */
export async function checkIn(ctx: DomainContext, input: { sessionId: string; userId: string; code: string }, rules: CheckInRules): Promise<Result<CheckInOutcome, AttendanceErrorCode>> {
  const session = await findClassSession(ctx.db, input.sessionId);
  if (!session) return fail("CLASS_SESSION_NOT_FOUND");
  if (!(await isExpectedAt(ctx.db, session.id, input.userId))) {
    return fail("ATTENDANCE_NOT_EXPECTED", "You are not a learner expected at this session.", { userIds: [input.userId] });
  }
  const now = ctx.now();
  if (session.status === "cancelled") return fail("ATTENDANCE_SESSION_CANCELLED");
  if (!(await attendancePolicyOf(ctx.db, session.courseId)).selfCheckIn) return fail("CHECK_IN_DISABLED");
  if (!isOpen(session, now)) return fail("CHECK_IN_CLOSED");

  // Every try is counted first, atomically (one upsert that holds the row until this transaction ends), and only
  // the first CHECK_IN_MAX_WRONG of a window are checked: tries racing in parallel each get their own count, so
  // they cannot all read "under the limit" before any of them is counted.
  const { count, windowStartedAt } = await countInWindow(ctx.db, throttleKey(session.id, input.userId), CHECK_IN_THROTTLE_WINDOW_SECONDS, now);
  if (count > CHECK_IN_MAX_WRONG) {
    const retry = retryAfterSeconds(windowStartedAt, CHECK_IN_THROTTLE_WINDOW_SECONDS, now);
    return fail("CHECK_IN_THROTTLED", `Too many wrong codes: try again in ${retry} s.`, { retryAfterSeconds: retry });
  }
  const delta = TOTP.validate({
    token: input.code,
    secret: Secret.fromBase32(session.checkInSecret),
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: rules.periodSeconds,
    timestamp: now.getTime(),
    window: 1,
  });
  // 0: this period's code; -1: the one before (shown until a moment ago). A code of the next period is not shown yet.
  if (delta !== 0 && delta !== -1) {
    return fail("CHECK_IN_CODE_INVALID", "The code is wrong or has expired: enter the code shown now.", { triesLeft: Math.max(0, CHECK_IN_MAX_WRONG - count) });
  }

  const status = checkInStatus(session, now, rules.lateAfterMinutes);
  const [inserted] = await ctx.db
    .insert(attendanceMarks)
    .values({ sessionId: session.id, userId: input.userId, courseId: session.courseId, status, source: "check-in", markedByUserId: input.userId, markedAt: now, updatedAt: now })
    .onConflictDoNothing()
    .returning({ status: attendanceMarks.status, markedAt: attendanceMarks.markedAt });
  if (!inserted) {
    const [existing] = await ctx.db
      .select({ status: attendanceMarks.status, source: attendanceMarks.source, markedAt: attendanceMarks.markedAt })
      .from(attendanceMarks)
      .where(and(eq(attendanceMarks.sessionId, session.id), eq(attendanceMarks.userId, input.userId)));
    if (existing && existing.source === "check-in") return ok({ sessionId: session.id, userId: input.userId, status: existing.status, markedAt: existing.markedAt });
    return fail("CHECK_IN_ALREADY_MARKED", "Your attendance at this session is marked already; staff can change it.", existing ? { status: existing.status } : undefined);
  }
  await recordEvent(ctx, {
    type: "attendance.recorded",
    aggregateType: "class-session",
    aggregateId: session.id,
    courseId: session.courseId,
    data: { sessionId: session.id, courseId: session.courseId, userIds: [input.userId] },
  });
  return ok({ sessionId: session.id, userId: input.userId, status: inserted.status, markedAt: inserted.markedAt });
}
