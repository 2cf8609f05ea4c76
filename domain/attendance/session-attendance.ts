import { and, asc, eq, inArray } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type AttendanceSource, type AttendanceStatus, attendanceMarks, users } from "../db/schema/index.js";
import type { StaffViewer } from "../schedule/session-view.js";
import { ok, type Result } from "../shared/result.js";
import { noMarks, type SessionAttendanceRate, sessionAttendanceRates } from "./attendance-rate.js";
import { attendancePolicyOf } from "./attendance-policy.js";
import { editWindowEndsAt } from "./attendance-rules.js";
import { type ClassSession, sessionForStaff } from "./session-scope.js";

export interface RosterEntry {
  userId: string;
  displayName: string;
  /** "unmarked" until staff mark the learner or they check in. */
  status: AttendanceStatus | "unmarked";
  note: string | null;
  source: AttendanceSource | null;
  /** The approved leave that excused the mark, while staff have not changed it since. */
  leaveApplicationId: string | null;
  markedAt: Date | null;
}

export interface SessionAttendance {
  session: Pick<ClassSession, "id" | "courseId" | "sectionId" | "title" | "startsAt" | "endsAt" | "status" | "checkInOpenUntil"> & { editWindowEndsAt: Date };
  items: RosterEntry[];
  /** Over every learner's mark at the session. */
  rate: Omit<SessionAttendanceRate, "sessionId">;
}


/**
 * The roster of a session with its marks: the learners the viewer takes attendance for (unmarked ones listed as
 * such) and anyone else in their view with a mark (a learner who left the course keeps theirs), by name.
 */
export async function sessionAttendance(
  db: Executor,
  session: ClassSession,
  learners: readonly string[],
  scope: readonly string[] | null,
  now: Date,
  /** the course policy's edit window when the caller has just read it (a write in the same transaction) */
  known: { editWindowHours?: number } = {},
): Promise<SessionAttendance> {
  const marks = await db
    .select({
      userId: attendanceMarks.userId,
      status: attendanceMarks.status,
      note: attendanceMarks.note,
      source: attendanceMarks.source,
      leaveApplicationId: attendanceMarks.leaveApplicationId,
      markedAt: attendanceMarks.markedAt,
    })
    .from(attendanceMarks)
    .where(eq(attendanceMarks.sessionId, session.id));
  const expected = new Set(learners);
  // A scoped viewer sees only their sections' learners; marks of others stay out of their view.
  const shownMarks = scope ? marks.filter((m) => expected.has(m.userId)) : marks;
  const ids = [...new Set([...learners, ...shownMarks.map((m) => m.userId)])];
  const names = ids.length
    ? await db.select({ id: users.id, displayName: users.displayName }).from(users).where(inArray(users.id, ids)).orderBy(asc(users.displayName), asc(users.id))
    : [];
  const markOf = new Map(shownMarks.map((m) => [m.userId, m]));
  const [editWindowHours, rates] = await Promise.all([
    known.editWindowHours ?? attendancePolicyOf(db, session.courseId).then((p) => p.editWindowHours),
    sessionAttendanceRates(db, [session.id], scope ? { userIds: learners } : null, now),
  ]);
  const { sessionId: _, ...rate } = rates.get(session.id) ?? { sessionId: session.id, ...noMarks };
  return {
    session: {
      id: session.id,
      courseId: session.courseId,
      sectionId: session.sectionId,
      title: session.title,
      startsAt: session.startsAt,
      endsAt: session.endsAt,
      status: session.status,
      checkInOpenUntil: session.checkInOpenUntil,
      editWindowEndsAt: editWindowEndsAt(session, editWindowHours),
    },
    items: names.map(({ id, displayName }) => {
      const m = markOf.get(id);
      return {
        userId: id,
        displayName,
        status: m?.status ?? "unmarked",
        note: m?.note ?? null,
        source: m?.source ?? null,
        leaveApplicationId: m?.leaveApplicationId ?? null,
        markedAt: m?.markedAt ?? null,
      };
    }),
    rate,
  };
}

/** The session's roster with marks, as a staff member sees it. */
export async function sessionAttendanceSeenBy(db: Executor, sessionId: string, viewer: StaffViewer, now: Date): Promise<Result<SessionAttendance, "CLASS_SESSION_NOT_FOUND">> {
  const found = await sessionForStaff(db, sessionId, viewer);
  if (!found.ok) return found;
  return ok(await sessionAttendance(db, found.value.session, found.value.learners, found.value.scope, now));
}

/** Marks of some learners at a session, locked for the change about to be made. */
export async function storedMarks(db: Executor, sessionId: string, userIds: readonly string[]) {
  if (userIds.length === 0) return [];
  return db
    .select({ userId: attendanceMarks.userId, status: attendanceMarks.status, note: attendanceMarks.note, leaveApplicationId: attendanceMarks.leaveApplicationId, source: attendanceMarks.source })
    .from(attendanceMarks)
    .where(and(eq(attendanceMarks.sessionId, sessionId), inArray(attendanceMarks.userId, [...userIds])))
    .for("update");
}
