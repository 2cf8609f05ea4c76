import { eq, inArray } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import type { AttemptDrawView, PresentedItem } from "../db/schema/assessment-json.js";
import { assessments, attempts, drawCandidateSets } from "../db/schema/index.js";
import { inStaffScope } from "../sections/staff-scope.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { AttemptRow } from "./attempts.js";
import { learnerItems, presentedItems } from "./presented-items.js";

/**
 * An attempt with the items it presents (no keys; choices in the presented order), for its learner or the course's
 * staff (access is the route's); staff scoped to sections see only their sections' learners' attempts. Drawn items'
 * `source` (bank item and version) is for staff: the learner's view leaves it out.
 */
export async function attemptSeenBy(db: Executor, attemptId: string, viewerId: string): Promise<Result<{ attempt: AttemptRow; items: PresentedItem[] }, "ATTEMPT_NOT_FOUND">> {
  const [row] = await db.select({ attempt: attempts, items: assessments.items }).from(attempts).innerJoin(assessments, eq(assessments.id, attempts.assessmentId)).where(eq(attempts.id, attemptId));
  if (!row) return fail("ATTEMPT_NOT_FOUND");
  if (row.attempt.userId === viewerId) return ok({ attempt: row.attempt, items: learnerItems(presentedItems(row.attempt, row)) });
  if (!(await inStaffScope(db, row.attempt.courseId, viewerId, row.attempt.userId))) return fail("ATTEMPT_NOT_FOUND");
  return ok({ attempt: row.attempt, items: presentedItems(row.attempt, row) });
}

/**
 * How an attempt's items were chosen (seed, settings, pools with their candidates resolved from the stored sets, drawn,
 * order, choice order), for the course's staff.
 */
export async function attemptDraw(db: Executor, attemptId: string, viewerId: string): Promise<Result<AttemptDrawView, "ATTEMPT_NOT_FOUND" | "DRAW_NOT_FOUND">> {
  const [row] = await db.select({ draw: attempts.draw, courseId: attempts.courseId, userId: attempts.userId }).from(attempts).where(eq(attempts.id, attemptId));
  if (!row || !(await inStaffScope(db, row.courseId, viewerId, row.userId))) return fail("ATTEMPT_NOT_FOUND");
  if (!row.draw) return fail("DRAW_NOT_FOUND");
  const hashes = [...new Set(row.draw.pools.map((p) => p.candidateSet))];
  const sets = hashes.length ? await db.select().from(drawCandidateSets).where(inArray(drawCandidateSets.hash, hashes)) : [];
  const byHash = new Map(sets.map((s) => [s.hash, s.candidates]));
  return ok({ ...row.draw, pools: row.draw.pools.map((p) => ({ ...p, candidates: byHash.get(p.candidateSet) ?? [] })) });
}
