import { asc, eq } from "drizzle-orm";
import { type CourseViewer, seesAsStaff } from "../catalog/viewer.js";
import type { Executor } from "../db/client.js";
import { assessmentKeys, assessments, type AssessmentKind } from "../db/schema/index.js";
import type { LatePolicy, ScoringPolicy } from "../grading/final-grade.js";
import type { Pool } from "../db/schema/assessment-json.js";
import type { Item, ItemKey } from "../grading/items.js";
import { itemProblems } from "../grading/item-checks.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { AssessmentErrorCode } from "./assessment.errors.js";
import { poolProblems, poolShapeProblems } from "./pools.js";

export interface AssessmentSettings {
  title: string;
  kind: AssessmentKind;
  items: Item[];
  keys: Record<string, ItemKey>;
  attemptsAllowed: number | null;
  scoringPolicy: ScoringPolicy;
  timeLimitMinutes: number | null;
  availableFrom: Date | null;
  dueAt: Date | null;
  lockAt: Date | null;
  latePolicy: LatePolicy;
  releaseMode: "immediate" | "manual";
  category: string;
  requiredForCompletion?: boolean;
  /** Drawn per attempt after the fixed items; with pools an assessment may have no fixed items. */
  pools: Pool[];
  shuffleItems: boolean;
  shuffleChoices: boolean;
}

export type AssessmentRow = typeof assessments.$inferSelect;

/** Settings that cannot all hold, each named; an empty list means the settings are consistent. */
function contradictions(s: Omit<AssessmentSettings, "title" | "kind" | "category" | "requiredForCompletion">): string[] {
  const problems: string[] = [];
  if (s.lockAt && s.dueAt && s.lockAt < s.dueAt) problems.push("lockAt is before dueAt");
  if (s.availableFrom && s.dueAt && s.dueAt <= s.availableFrom) problems.push("dueAt is not after availableFrom");
  if (s.availableFrom && s.lockAt && s.lockAt <= s.availableFrom) problems.push("lockAt is not after availableFrom");
  if (s.latePolicy.kind !== "none" && s.latePolicy.kind !== "no-late-work" && !s.dueAt) problems.push("a late penalty needs dueAt");
  const ids = s.items.map((i) => i.id);
  if (new Set(ids).size !== ids.length) problems.push("item ids repeat");
  if (ids.length === 0 && s.pools.length === 0) problems.push("an assessment needs items or pools");
  problems.push(...poolShapeProblems(s.pools));
  for (const item of s.items) problems.push(...itemProblems(item, s.keys[item.id]));
  for (const id of Object.keys(s.keys)) if (!ids.includes(id)) problems.push(`${id}: a key for no item`);
  return problems;
}

/** `contradictions`, then the pools against the banks (they exist, the course may draw from them, enough items match). */
export async function settingsProblems(db: Executor, courseId: string, s: Parameters<typeof contradictions>[0], checkPools = true): Promise<{ problems: string[]; pools?: object[] }> {
  const problems = contradictions(s);
  if (problems.length || !checkPools) return { problems };
  const pools = await poolProblems(db, courseId, s.pools, s.items.map((i) => i.id));
  return pools.shortfalls.length ? { problems: pools.problems, pools: pools.shortfalls } : { problems: pools.problems };
}

export async function createAssessment(ctx: DomainContext, courseId: string, input: AssessmentSettings): Promise<Result<AssessmentRow, AssessmentErrorCode>> {
  const refused = await settingsProblems(ctx.db, courseId, input);
  if (refused.problems.length) return fail("INVALID_ASSESSMENT_SETTINGS", refused.problems.join("; "), refused);
  const now = ctx.now();
  const { keys, ...columns } = input;
  const id = ctx.newId();
  const [row] = await ctx.db
    .insert(assessments)
    .values({ id, courseId, ...columns, keyVersion: 1, createdAt: now, updatedAt: now })
    .returning();
  await ctx.db.insert(assessmentKeys).values({ assessmentId: id, version: 1, keys, createdAt: now });
  return ok(row as AssessmentRow);
}

export async function findAssessment(db: Executor, id: string): Promise<AssessmentRow | null> {
  const [row] = await db.select().from(assessments).where(eq(assessments.id, id));
  return row ?? null;
}

export async function currentKeys(db: Executor, a: AssessmentRow): Promise<Record<string, ItemKey>> {
  const rows = await db.select().from(assessmentKeys).where(eq(assessmentKeys.assessmentId, a.id));
  return rows.find((r) => r.version === a.keyVersion)?.keys ?? {};
}

/** The course's assessments, oldest id first. */
export async function listAssessments(db: Executor, courseId: string): Promise<AssessmentRow[]> {
  return db.select().from(assessments).where(eq(assessments.courseId, courseId)).orderBy(asc(assessments.id));
}

/** An assessment as `viewer` sees it: the course's staff (and admins) also get its current answer key. */
export async function assessmentSeenBy(
  db: Executor,
  assessmentId: string,
  viewer: CourseViewer,
): Promise<Result<{ assessment: AssessmentRow; keys?: Record<string, ItemKey> }, "ASSESSMENT_NOT_FOUND">> {
  const assessment = await findAssessment(db, assessmentId);
  if (!assessment) return fail("ASSESSMENT_NOT_FOUND");
  if (!(await seesAsStaff(viewer, assessment.courseId))) return ok({ assessment });
  return ok({ assessment, keys: await currentKeys(db, assessment) });
}
