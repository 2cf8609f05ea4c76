import { and, desc, eq, inArray, lt } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type AssessmentKind, assessments, attempts, grades } from "../db/schema/index.js";
import { resultsReleased } from "./results-release.js";

type AttemptRow = typeof attempts.$inferSelect;

export interface LearnerSubmission {
  id: string;
  courseId: string;
  assessment: { id: string; title: string; kind: AssessmentKind };
  number: number;
  status: AttemptRow["status"];
  startedAt: Date;
  deadlineAt: Date | null;
  submittedAt: Date | null;
  submittedBy: AttemptRow["submittedBy"];
  /** The submission's newest grade version; null until it is graded and released. */
  grade: { id: string; version: number; percent: number | null; gradedAt: Date } | null;
}

/** A learner's attempts and submissions across courses, newest first (limit + 1, for pagination). */
export async function learnerSubmissions(
  db: Executor,
  userId: string,
  q: { limit: number; courseId?: string; assessmentId?: string; status?: AttemptRow["status"]; beforeId?: string },
): Promise<LearnerSubmission[]> {
  const rows = await db
    .select({
      attempt: attempts,
      assessment: { id: assessments.id, title: assessments.title, kind: assessments.kind },
      released: resultsReleased(),
    })
    .from(attempts)
    .innerJoin(assessments, eq(assessments.id, attempts.assessmentId))
    .where(
      and(
        eq(attempts.userId, userId),
        q.courseId ? eq(attempts.courseId, q.courseId) : undefined,
        q.assessmentId ? eq(attempts.assessmentId, q.assessmentId) : undefined,
        q.status ? eq(attempts.status, q.status) : undefined,
        q.beforeId ? lt(attempts.id, q.beforeId) : undefined,
      ),
    )
    .orderBy(desc(attempts.id))
    .limit(q.limit + 1);
  // Only released results are read at all: nothing about a score leaves before release.
  const shown = rows.filter((r) => r.released && r.attempt.status === "submitted").map((r) => r.attempt.id);
  const newest = shown.length
    ? await db
        .selectDistinctOn([grades.submissionId], { submissionId: grades.submissionId, id: grades.id, version: grades.version, percent: grades.percent, gradedAt: grades.createdAt })
        .from(grades)
        .where(inArray(grades.submissionId, shown))
        .orderBy(grades.submissionId, desc(grades.version))
    : [];
  const gradeOf = new Map(newest.map((n) => [n.submissionId, n]));
  return rows.map(({ attempt: t, assessment }) => {
    const g = gradeOf.get(t.id);
    return {
      id: t.id,
      courseId: t.courseId,
      assessment,
      number: t.number,
      status: t.status,
      startedAt: t.startedAt,
      deadlineAt: t.deadlineAt,
      submittedAt: t.submittedAt,
      submittedBy: t.submittedBy,
      grade: g ? { id: g.id, version: g.version, percent: g.percent, gradedAt: g.gradedAt } : null,
    };
  });
}
