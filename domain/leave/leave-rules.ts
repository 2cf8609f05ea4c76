import { fail, ok, type Result } from "../shared/result.js";
import type { LeaveErrorCode } from "./leave.errors.js";

export interface LeaveLimits {
  /** How far back a leave may start (days before now). */
  maxPastDays: number;
  /** The longest leave (days). */
  maxDays: number;
}

const DAY_MS = 86_400_000;

/** The range rules an application must keep: [startsAt, endsAt) not empty, not too long, not starting too far back. */
export function checkLeaveRange(range: { startsAt: Date; endsAt: Date }, now: Date, limits: LeaveLimits): Result<null, LeaveErrorCode> {
  const { startsAt, endsAt } = range;
  if (endsAt.getTime() <= startsAt.getTime()) return fail("LEAVE_RANGE_INVALID", "endsAt must be after startsAt.");
  if (startsAt.getTime() < now.getTime() - limits.maxPastDays * DAY_MS) {
    return fail("LEAVE_TOO_FAR_IN_PAST", `A leave may start at most ${limits.maxPastDays} days in the past.`, { maxPastDays: limits.maxPastDays });
  }
  if (endsAt.getTime() - startsAt.getTime() > limits.maxDays * DAY_MS) return fail("LEAVE_TOO_LONG", `A leave may last at most ${limits.maxDays} days.`, { maxDays: limits.maxDays });
  return ok(null);
}

/** Whether a decider may decide: a listed approver always; an administrator once the application has escalated. */
export function mayDecide(who: { isApprover: boolean; isAdmin: boolean; isApplicant: boolean }, status: string): boolean {
  if (who.isApplicant) return false;
  return who.isApprover || (who.isAdmin && status === "escalated");
}

export interface LeaveHours {
  escalationHours: number;
  decisionHours: number;
}

const HOUR_MS = 3_600_000;

/** How long after an application's creation it escalates, and expires; the final deadline never comes before the escalation. */
export function leaveDeadlineOffsetsMs(hours: LeaveHours): { escalatesAfterMs: number; expiresAfterMs: number } {
  return { escalatesAfterMs: hours.escalationHours * HOUR_MS, expiresAfterMs: Math.max(hours.decisionHours, hours.escalationHours) * HOUR_MS };
}

/** An application's deadlines: both count from its created_at, however late its orchestration starts. */
export function leaveDeadlines(input: LeaveHours & { createdAt: Date | string }): { escalatesAt: Date; expiresAt: Date } {
  const created = new Date(input.createdAt).getTime();
  const { escalatesAfterMs, expiresAfterMs } = leaveDeadlineOffsetsMs(input);
  return { escalatesAt: new Date(created + escalatesAfterMs), expiresAt: new Date(created + expiresAfterMs) };
}
