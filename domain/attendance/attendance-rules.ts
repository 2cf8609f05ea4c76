import type { AttendanceStatus } from "../db/schema/index.js";

// The time rules of taking attendance and checking in, as pure functions of the session and the clock.

const MINUTE = 60_000;

/** Learners may check in from this long before the session starts (they arrive early) until it ends. */
const CHECK_IN_LEAD_MINUTES = 15;

/** Wrong check-in codes a learner may send per session within the throttle window before further tries are refused. */
export const CHECK_IN_MAX_WRONG = 5;
export const CHECK_IN_THROTTLE_WINDOW_SECONDS = 300;

export interface SessionTimes {
  startsAt: Date;
  endsAt: Date;
}

/** Staff change marks freely until `editWindowHours` after the end; later changes need a reason and are audited. */
export const editWindowEndsAt = (session: SessionTimes, editWindowHours: number): Date => new Date(session.endsAt.getTime() + editWindowHours * 3_600_000);

export const editWindowClosed = (session: SessionTimes, editWindowHours: number, now: Date): boolean => now > editWindowEndsAt(session, editWindowHours);

/** Whether a learner may check in at `now`: from a little before the start until the end. */
export const withinCheckInTimes = (session: SessionTimes, now: Date): boolean =>
  now.getTime() >= session.startsAt.getTime() - CHECK_IN_LEAD_MINUTES * MINUTE && now < session.endsAt;

/** A check-in up to `lateAfterMinutes` after the start is present; later, late. */
export const checkInStatus = (session: SessionTimes, now: Date, lateAfterMinutes: number): AttendanceStatus =>
  now.getTime() > session.startsAt.getTime() + lateAfterMinutes * MINUTE ? "late" : "present";

/** When check-in closes: the instant asked for, never after the session's end (null: the end). */
export const checkInClosesAt = (session: SessionTimes, until: Date | null): Date => (until && until < session.endsAt ? until : session.endsAt);

export interface MarkInput {
  userId: string;
  status: AttendanceStatus;
  note: string | null;
}

export interface StoredMark {
  userId: string;
  status: AttendanceStatus;
  note: string | null;
  leaveApplicationId: string | null;
}

/** The marks that change something: new ones, and those whose status or note differ from what is stored. */
export function changedMarks(stored: readonly StoredMark[], incoming: readonly MarkInput[]): { mark: MarkInput; before: StoredMark | null }[] {
  const byUser = new Map(stored.map((m) => [m.userId, m]));
  return incoming
    .map((mark) => ({ mark, before: byUser.get(mark.userId) ?? null }))
    .filter(({ mark, before }) => !before || before.status !== mark.status || before.note !== mark.note);
}
