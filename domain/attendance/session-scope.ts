import type { Executor } from "../db/client.js";
import { sessionLearners } from "../schedule/attendees.js";
import { findSession, type SessionWithCheckIn, type StaffViewer } from "../schedule/session-view.js";
import { learnersInSections, viewerScope } from "../sections/staff-scope.js";
import { fail, ok, type Result } from "../shared/result.js";

/** A session as attendance works it: with its check-in state. */
export type ClassSession = SessionWithCheckIn;

/** A session with its check-in state, optionally locked (`no key update`: see findSession). */
export const findClassSession = (db: Executor, sessionId: string, lock = false): Promise<ClassSession | null> =>
  findSession(db, sessionId, { checkIn: true, ...(lock ? { lock: "no key update" as const } : {}) });

/**
 * A session as a staff member works it, with their section scope: a session of a section outside their scope is not
 * found for them. Only admins are never narrowed: being named a session's lead gives no more than the lead's own
 * course staff scope (the route already requires them to be course staff).
 */
export async function staffSession(
  db: Executor,
  sessionId: string,
  viewer: StaffViewer,
  lock = false,
): Promise<Result<{ session: ClassSession; scope: string[] | null }, "CLASS_SESSION_NOT_FOUND">> {
  const session = await findClassSession(db, sessionId, lock);
  if (!session) return fail("CLASS_SESSION_NOT_FOUND");
  const scope = await viewerScope(db, session.courseId, viewer);
  if (scope && session.sectionId && !scope.includes(session.sectionId)) return fail("CLASS_SESSION_NOT_FOUND");
  return ok({ session, scope });
}

/**
 * `staffSession` with the learners the staff member takes attendance for: the learners expected at it
 * (`sessionLearners`), narrowed to their sections when they are scoped to sections.
 */
export async function sessionForStaff(
  db: Executor,
  sessionId: string,
  viewer: StaffViewer,
  lock = false,
): Promise<Result<{ session: ClassSession; learners: string[]; scope: string[] | null }, "CLASS_SESSION_NOT_FOUND">> {
  const found = await staffSession(db, sessionId, viewer, lock);
  if (!found.ok) return found;
  const { session, scope } = found.value;
  const expected = (await sessionLearners(db, [sessionId])).get(sessionId) ?? [];
  if (!scope) return ok({ session, learners: expected, scope });
  const inScope = await learnersInSections(db, session.courseId, scope);
  return ok({ session, learners: expected.filter((id) => inScope.has(id)), scope });
}
