import { and, desc, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courseEvaluations, courses, courseStaff, courseStaffSections, type EvaluationQuestion, evaluationTemplates } from "../db/schema/index.js";
import { viewerScope } from "../sections/staff-scope.js";
import { csvRow } from "../shared/csv.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { CourseEvaluation } from "./course-evaluations.js";
import { type AnswerCounts, type QuestionSummary, summarise } from "./summarise.js";

export interface EvaluationResults {
  evaluation: CourseEvaluation;
  courseTitle: string;
  questions: QuestionSummary[];
}

/**
 * Why results are withheld. While the evaluation is open nothing is shown (answers arriving one by one could be
 * matched to who was seen answering); once closed, a count under the minimum is shown but no figures: the count
 * alone names nobody (the staff list shows it anyway), the figures of two or three answers would.
 */
export async function evaluationResults(
  db: Executor,
  evaluationId: string,
  minResponses: number,
  viewer: { userId: string; isAdmin: boolean },
): Promise<Result<EvaluationResults, "EVALUATION_NOT_FOUND" | "EVALUATION_RESULTS_WITHHELD" | "SECTION_OUT_OF_SCOPE">> {
  const [row] = await db
    .select({ e: courseEvaluations, courseTitle: courses.title })
    .from(courseEvaluations)
    .innerJoin(courses, eq(courses.id, courseEvaluations.courseId))
    .where(eq(courseEvaluations.id, evaluationId));
  if (!row) return fail("EVALUATION_NOT_FOUND");
  const e = row.e;
  // Every section's answers: not for staff scoped to some sections.
  if ((await viewerScope(db, e.courseId, viewer)) !== null) return fail("SECTION_OUT_OF_SCOPE", "The results are every section's answers: the course's unscoped instructors and administrators read them.");
  if (e.status !== "closed") {
    return fail("EVALUATION_RESULTS_WITHHELD", `Results are shown once the evaluation has closed (${e.closesAt.toISOString()}).`, { reason: "not-closed", closesAt: e.closesAt.toISOString() });
  }
  if (e.responseCount < minResponses) {
    return fail("EVALUATION_RESULTS_WITHHELD", `Results are shown only when at least ${minResponses} learners answered; ${e.responseCount} did.`, {
      reason: "too-few-responses",
      minResponses,
      responseCount: e.responseCount,
    });
  }
  // One scan of the responses: text answers come counted like the others (identical texts grouped), and are
  // listed again as many times as given (summarise shuffles them).
  const counts: AnswerCounts = (await answerCounts(db, [e.id], e.questions.map((q) => q.id))).get(e.id) ?? new Map();
  const texts = new Map(
    e.questions
      .filter((q) => q.kind === "text")
      .map((q) => [q.id, [...(counts.get(q.id) ?? new Map<string | number, number>())].flatMap(([value, n]) => (typeof value === "string" && value !== "" ? Array<string>(n).fill(value) : []))]),
  );
  return ok({ evaluation: e, courseTitle: row.courseTitle, questions: summarise(e.questions, counts, texts, minResponses) });
}

/** Per evaluation, per question of `counted`, how often each value was given: one grouped query. */
async function answerCounts(db: Executor, evaluationIds: readonly string[], counted: readonly string[]): Promise<Map<string, AnswerCounts>> {
  const out = new Map<string, AnswerCounts>();
  if (evaluationIds.length === 0 || counted.length === 0) return out;
  const rows = await db.execute<{ evaluation_id: string; question_id: string; value: string; type: string; count: number }>(sql`
    select r.evaluation_id, a.key as question_id, a.value #>> '{}' as value, jsonb_typeof(a.value) as type, count(*)::int as count
    from evaluation_responses r cross join lateral jsonb_each(r.answers) a
    where r.evaluation_id = any(${sql.param([...evaluationIds])}::uuid[]) and a.key = any(${sql.param([...counted])}::text[]) and jsonb_typeof(a.value) in ('number', 'string')
    group by 1, 2, 3, 4`);
  for (const r of rows) {
    const byQuestion = out.get(r.evaluation_id) ?? new Map<string, Map<string | number, number>>();
    out.set(r.evaluation_id, byQuestion);
    const values = byQuestion.get(r.question_id) ?? new Map<string | number, number>();
    byQuestion.set(r.question_id, values);
    values.set(r.type === "number" ? Number(r.value) : r.value, r.count);
  }
  return out;
}

export interface TermResults {
  evaluationId: string;
  courseId: string;
  courseTitle: string;
  term: string;
  closedAt: Date;
  n: number;
  /** Likert and choice questions only: free text does not compare across terms (and stays with each evaluation). */
  questions: QuestionSummary[];
}

/**
 * A template's results across terms: each closed evaluation made from it that meets the minimum, newest first, with
 * its likert and choice figures. Instructors see only the courses they instruct unscoped (no section scope: the results
 * are every section's answers). Keyset-paged by (closedAt, id).
 */
export async function templateResults(
  db: Executor,
  templateId: string,
  viewer: { userId: string; isAdmin: boolean },
  options: { minResponses: number; limit: number; after?: { closedAt: Date; id: string } },
): Promise<Result<{ template: { id: string; title: string; questions: EvaluationQuestion[] }; items: TermResults[] }, "EVALUATION_TEMPLATE_NOT_FOUND">> {
  const [template] = await db
    .select({ id: evaluationTemplates.id, title: evaluationTemplates.title, questions: evaluationTemplates.questions })
    .from(evaluationTemplates)
    .where(eq(evaluationTemplates.id, templateId));
  if (!template) return fail("EVALUATION_TEMPLATE_NOT_FOUND");
  const rows = await db
    .select({ e: courseEvaluations, courseTitle: courses.title })
    .from(courseEvaluations)
    .innerJoin(courses, eq(courses.id, courseEvaluations.courseId))
    .where(
      and(
        eq(courseEvaluations.templateId, templateId),
        eq(courseEvaluations.status, "closed"),
        sql`${courseEvaluations.responseCount} >= ${options.minResponses}`,
        viewer.isAdmin
          ? undefined
          : sql`${courseEvaluations.courseId} in (select ${courseStaff.courseId} from ${courseStaff} where ${courseStaff.userId} = ${viewer.userId} and ${courseStaff.role} = 'instructor'
              and not exists (select 1 from ${courseStaffSections} where ${courseStaffSections.courseId} = ${courseStaff.courseId} and ${courseStaffSections.userId} = ${viewer.userId}))`,
        options.after ? sql`(${courseEvaluations.closedAt}, ${courseEvaluations.id}) < (${options.after.closedAt.toISOString()}::timestamptz, ${options.after.id}::uuid)` : undefined,
      ),
    )
    .orderBy(desc(courseEvaluations.closedAt), desc(courseEvaluations.id))
    .limit(options.limit + 1);
  const counts = await answerCounts(db, rows.map((r) => r.e.id), template.questions.filter((q) => q.kind !== "text").map((q) => q.id));
  const items = rows.map(({ e, courseTitle }): TermResults => ({
    evaluationId: e.id,
    courseId: e.courseId,
    courseTitle,
    term: e.term,
    closedAt: e.closedAt as Date,
    n: e.responseCount,
    questions: summarise(e.questions.filter((q) => q.kind !== "text"), counts.get(e.id) ?? new Map(), new Map(), options.minResponses),
  }));
  return ok({ template, items });
}

const header = ["question_id", "kind", "prompt", "n", "mean", "median", "value", "count"];

/** One row per (question, scale point or option); a text question's answers one per row (shuffled); a withheld question one row with its n only. */
function questionRows(q: QuestionSummary): (string | number | null)[][] {
  if (q.withheld) return [[q.id, q.kind, q.prompt, q.n, null, null, "(withheld: too few answers)", null]];
  if (q.kind === "likert") return q.distribution.map((d) => [q.id, q.kind, q.prompt, q.n, q.mean, q.median, q.labels?.[d.point - 1] ? `${d.point} ${q.labels[d.point - 1]}` : d.point, d.count]);
  if (q.kind === "choice") return q.counts.map((c) => [q.id, q.kind, q.prompt, q.n, null, null, c.option, c.count]);
  return q.answers.map((a) => [q.id, q.kind, q.prompt, q.n, null, null, a, null]);
}

export const evaluationResultsCsv = (r: EvaluationResults): string =>
  [csvRow(header), ...r.questions.flatMap(questionRows).map(csvRow)].join("");

export const templateResultsCsv = (items: readonly TermResults[]): string =>
  [
    csvRow(["evaluation_id", "course_id", "course_title", "term", "closed_at", "responses", ...header]),
    ...items.flatMap((t) => t.questions.flatMap(questionRows).map((cells) => csvRow([t.evaluationId, t.courseId, t.courseTitle, t.term, t.closedAt.toISOString(), t.n, ...cells]))),
  ].join("");
