import { eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { classSessions, type sessionSeries } from "../db/schema/index.js";
import { type CourseViewer, seesAsStaff } from "../catalog/viewer.js";
import { viewerScope } from "../sections/staff-scope.js";
import { fail, ok, type Result } from "../shared/result.js";
import { isExpectedAt } from "./attendees.js";

/** A class session as the API shows it (no check-in secret). */
export interface SessionView {
  id: string;
  courseId: string;
  sectionId: string | null;
  seriesId: string | null;
  occurrenceDate: string | null;
  detached: boolean;
  title: string;
  startsAt: Date;
  endsAt: Date;
  timeZone: string;
  location: string | null;
  onlineUrl: string | null;
  staffUserId: string | null;
  status: "scheduled" | "cancelled";
  cancelledAt: Date | null;
  cancelReason: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export const sessionColumns = {
  id: classSessions.id,
  courseId: classSessions.courseId,
  sectionId: classSessions.sectionId,
  seriesId: classSessions.seriesId,
  occurrenceDate: classSessions.occurrenceDate,
  detached: classSessions.detached,
  title: classSessions.title,
  startsAt: classSessions.startsAt,
  endsAt: classSessions.endsAt,
  timeZone: classSessions.timeZone,
  location: classSessions.location,
  onlineUrl: classSessions.onlineUrl,
  staffUserId: classSessions.staffUserId,
  status: classSessions.status,
  cancelledAt: classSessions.cancelledAt,
  cancelReason: classSessions.cancelReason,
  version: classSessions.version,
  createdAt: classSessions.createdAt,
  updatedAt: classSessions.updatedAt,
};

/** Who schedules sessions or works them (takes attendance, runs check-in): the scope check needs no more. */
export type StaffViewer = Pick<CourseViewer, "userId" | "isAdmin">;

export type SeriesView = Omit<typeof sessionSeries.$inferSelect, "createdByUserId">;

/** A session with its self check-in state (attendance reads it; the API never shows the secret). */
export type SessionWithCheckIn = SessionView & { checkInSecret: string | null; checkInOpenUntil: Date | null };

interface FindSessionOptions {
  /**
   * `update` for schedule writes (lockSession locks its series first); `no key update` serialises attendance writes
   * and check-in changes on one session while letting rows that merely refer to it (marks) be inserted.
   */
  lock?: "update" | "no key update";
  /** with the check-in secret and its closing time */
  checkIn?: boolean;
}

/** A session, optionally locked, optionally with its check-in state. */
export async function findSession(db: Executor, sessionId: string, opts: FindSessionOptions & { checkIn: true }): Promise<SessionWithCheckIn | null>;
export async function findSession(db: Executor, sessionId: string, opts?: FindSessionOptions): Promise<SessionView | null>;
export async function findSession(db: Executor, sessionId: string, opts: FindSessionOptions = {}): Promise<SessionView | null> {
  const columns = opts.checkIn ? { ...sessionColumns, checkInSecret: classSessions.checkInSecret, checkInOpenUntil: classSessions.checkInOpenUntil } : sessionColumns;
  const query = db.select(columns).from(classSessions).where(eq(classSessions.id, sessionId));
  const [row] = opts.lock ? await query.for(opts.lock) : await query;
  return row ?? null;
}

/** The course a session belongs to (for the route's access check); null when there is no such session. */
export async function sessionCourse(db: Executor, sessionId: string): Promise<string | null> {
  const [row] = await db.select({ courseId: classSessions.courseId }).from(classSessions).where(eq(classSessions.id, sessionId));
  return row?.courseId ?? null;
}

/**
 * Whether staff may see or change a session of a section (null: the whole course): admins and unscoped staff
 * always; staff scoped to sections only for their sections' sessions (a whole-course session is not theirs to change).
 */
export async function staffCovers(db: Executor, courseId: string, sectionId: string | null, viewer: StaffViewer, mode: "read" | "write"): Promise<boolean> {
  const scope = await viewerScope(db, courseId, viewer);
  if (scope === null) return true;
  if (sectionId === null) return mode === "read";
  return scope.includes(sectionId);
}

/**
 * Whether a course member may see a session: staff within their section scope (whole-course sessions included),
 * an active learner when it is for the whole course or their section.
 */
async function sessionVisibleTo(db: Executor, session: Pick<SessionView, "id" | "courseId" | "sectionId">, viewer: CourseViewer): Promise<boolean> {
  if (await seesAsStaff(viewer, session.courseId)) return staffCovers(db, session.courseId, session.sectionId, viewer, "read");
  return isExpectedAt(db, session.id, viewer.userId);
}

/** What attendance says about sessions a change would retime or cancel. */
export interface MarksAt {
  /** sessions where attendance was taken (a mark by staff or a check-in): never retimed or cancelled */
  taken: Set<string>;
  /** sessions whose only marks are approved leave's: the excused learners, whose rates a change moves */
  excused: Map<string, string[]>;
}

export async function marksAt(db: Executor, sessionIds: readonly string[]): Promise<MarksAt> {
  const out: MarksAt = { taken: new Set(), excused: new Map() };
  if (sessionIds.length === 0) return out;
  const rows = await db.execute<{ session_id: string; taken: boolean; excused: string[] }>(sql`
    select session_id, bool_or(source <> 'leave') as taken, array_agg(user_id order by user_id) as excused
    from attendance_marks where session_id = any(${sql.param([...sessionIds])}::uuid[]) group by session_id`);
  for (const r of rows) {
    if (r.taken) out.taken.add(r.session_id);
    else out.excused.set(r.session_id, r.excused);
  }
  return out;
}

/** A session as a course member sees it: not found when there is none or it is not theirs to see (sessionVisibleTo). */
export async function sessionSeenBy(db: Executor, sessionId: string, viewer: CourseViewer): Promise<Result<SessionView, "CLASS_SESSION_NOT_FOUND">> {
  const session = await findSession(db, sessionId);
  if (!session) return fail("CLASS_SESSION_NOT_FOUND");
  return (await sessionVisibleTo(db, session, viewer)) ? ok(session) : fail("CLASS_SESSION_NOT_FOUND");
}
