import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { assessments, courseProgress, courses, enrollments, grades, lessonCompletions, lessons, modules } from "../db/schema/index.js";
import { attendancePolicyOf } from "../attendance/attendance-policy.js";
import { attendanceRates } from "../attendance/attendance-rate.js";
import { lessonLocks } from "../catalog/lesson-locks.js";
import { recordEvent } from "../outbox/record-event.js";
import { sectionsInView } from "../sections/staff-scope.js";
import type { DomainContext } from "../shared/context.js";
import { ok, type Result } from "../shared/result.js";

export interface ProgressView {
  courseId: string;
  userId: string;
  /** Share of the completion requirements met, 0–100. */
  percent: number;
  requiredLessons: { total: number; done: string[] };
  requiredAssessments: { total: number; passed: string[]; passPercent: number };
  /** The course's minimum attendance rate, when its attendance policy sets one: one more requirement. */
  attendance: { minRatePercent: number; ratePercent: number | null; met: boolean } | null;
  complete: boolean;
  completedAt: Date | null;
  /** The first open lesson not done yet, in course order (respecting unlock times and sequential progress). */
  next: { lessonId: string; title: string } | null;
}

/**
 * Progress computed from the record alone — lesson completions and the newest grade of each required
 * assessment — so recomputing it any number of times, for events in any order, gives the same answer.
 */
export async function computeProgress(db: Executor, courseId: string, userId: string, now: Date): Promise<ProgressView | null> {
  const [course] = await db.select().from(courses).where(eq(courses.id, courseId));
  if (!course) return null;
  const ordered = await db
    .select({ lesson: lessons, modulePosition: modules.position })
    .from(lessons)
    .innerJoin(modules, eq(modules.id, lessons.moduleId))
    .where(and(eq(lessons.courseId, courseId), isNull(lessons.hiddenAt), isNull(modules.hiddenAt)))
    .orderBy(modules.position, lessons.position);
  const done = new Set(
    (await db.select({ id: lessonCompletions.lessonId }).from(lessonCompletions).where(and(eq(lessonCompletions.courseId, courseId), eq(lessonCompletions.userId, userId)))).map((r) => r.id),
  );
  const required = ordered.filter((o) => o.lesson.required).map((o) => o.lesson);
  const reqAssessments = await db.select({ id: assessments.id }).from(assessments).where(and(eq(assessments.courseId, courseId), eq(assessments.requiredForCompletion, true)));
  const passed: string[] = [];
  for (const a of reqAssessments) {
    const [g] = await db
      .select({ percent: grades.percent })
      .from(grades)
      .where(and(eq(grades.assessmentId, a.id), eq(grades.userId, userId)))
      .orderBy(desc(grades.createdAt), desc(grades.version))
      .limit(1);
    if (g?.percent !== null && g?.percent !== undefined && g.percent >= course.passPercent) passed.push(a.id);
  }
  const attendance = await attendanceRequirement(db, courseId, userId, now);
  const total = required.length + reqAssessments.length + (attendance ? 1 : 0);
  const met = required.filter((l) => done.has(l.id)).length + passed.length + (attendance?.met ? 1 : 0);
  let next: ProgressView["next"] = null;
  const places = ordered.map((o) => ({ ...o.lesson, modulePosition: o.modulePosition }));
  const lockOf = lessonLocks(places, done, course.sequentialProgress, now);
  for (const lesson of places) {
    if (done.has(lesson.id)) continue;
    if (lockOf(lesson)) continue;
    next = { lessonId: lesson.id, title: lesson.title };
    break;
  }
  const [stored] = await db.select().from(courseProgress).where(and(eq(courseProgress.courseId, courseId), eq(courseProgress.userId, userId)));
  return {
    courseId,
    userId,
    percent: total === 0 ? 0 : Math.round((met / total) * 10_000) / 100,
    requiredLessons: { total: required.length, done: required.filter((l) => done.has(l.id)).map((l) => l.id) },
    requiredAssessments: { total: reqAssessments.length, passed, passPercent: course.passPercent },
    attendance,
    complete: total > 0 && met === total && (!course.completionDeadline || now <= course.completionDeadline || stored?.completedAt != null),
    completedAt: stored?.completedAt ?? null,
    next,
  };
}

/** The attendance requirement: met at the minimum rate or above; a learner with no counted session yet does not meet it. */
async function attendanceRequirement(db: Executor, courseId: string, userId: string, now: Date): Promise<ProgressView["attendance"]> {
  const { minRateForCompletion } = await attendancePolicyOf(db, courseId);
  if (minRateForCompletion === null) return null;
  const ratePercent = (await attendanceRates(db, { courseId, userIds: [userId] }, now)).get(`${courseId}:${userId}`)?.ratePercent ?? null;
  return { minRatePercent: minRateForCompletion, ratePercent, met: ratePercent !== null && ratePercent >= minRateForCompletion };
}

/**
 * Stores the recomputed progress (call it inside a transaction: the advisory lock lasts until commit); the first time the rules are met the completion is recorded and
 * `course.completed` written — exactly once per (learner, course), however often or in whatever order
 * events arrive (the conditional update is the guard).
 */
export async function updateProgress(ctx: DomainContext, courseId: string, userId: string): Promise<ProgressView | null> {
  // One recompute per learner and course at a time: one that read older facts must never overwrite a newer result.
  await ctx.db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`progress:${courseId}:${userId}`}, 0))`);
  const view = await computeProgress(ctx.db, courseId, userId, ctx.now());
  if (!view) return null;
  const now = ctx.now();
  const [stored] = await ctx.db.select().from(courseProgress).where(and(eq(courseProgress.courseId, courseId), eq(courseProgress.userId, userId)));
  const completesNow = view.complete && !view.completedAt;
  if (stored && stored.percent === view.percent && !completesNow) return view;
  const revision = (stored?.revision ?? 0) + 1;
  const completedAt = completesNow ? now : (stored?.completedAt ?? null);
  await ctx.db
    .insert(courseProgress)
    .values({ courseId, userId, percent: view.percent, revision, completedAt, updatedAt: now })
    .onConflictDoUpdate({ target: [courseProgress.courseId, courseProgress.userId], set: { percent: view.percent, revision, completedAt, updatedAt: now } });
  await recordEvent(ctx, {
    type: "progress.updated",
    aggregateType: "course-progress",
    aggregateId: `${courseId}:${userId}`,
    courseId,
    data: { courseId, userId, percent: view.percent, revision, complete: completedAt !== null },
  });
  if (completesNow) {
    await ctx.db
      .update(enrollments)
      .set({ completedAt: now, updatedAt: now })
      .where(and(eq(enrollments.courseId, courseId), eq(enrollments.userId, userId), eq(enrollments.status, "active")));
    await recordEvent(ctx, { type: "course.completed", aggregateType: "course-progress", aggregateId: `${courseId}:${userId}`, courseId, data: { courseId, userId, completedAt: now.toISOString() } });
    return { ...view, completedAt: now };
  }
  return view;
}

/** Staff view: every active learner's stored progress, in user id order (limit + 1 rows). */
/** The progress roster as a staff member sees it: the section asked for, or else their section scope. */
export async function rosterSeenBy(
  db: Executor,
  courseId: string,
  viewer: { userId: string; isAdmin: boolean },
  q: { limit: number; afterUserId?: string; section?: string },
): Promise<Result<Awaited<ReturnType<typeof roster>>, "SECTION_NOT_FOUND" | "SECTION_OUT_OF_SCOPE">> {
  const sectionIds = await sectionsInView(db, courseId, viewer, q.section);
  if (!sectionIds.ok) return sectionIds;
  return ok(await roster(db, courseId, { limit: q.limit, sectionIds: sectionIds.value, ...(q.afterUserId ? { afterUserId: q.afterUserId } : {}) }));
}

export async function roster(db: Executor, courseId: string, q: { limit: number; afterUserId?: string; sectionIds?: readonly string[] | null }) {
  return db
    .select({ userId: enrollments.userId, percent: sql<number>`coalesce(${courseProgress.percent}, 0)`, completedAt: courseProgress.completedAt })
    .from(enrollments)
    .leftJoin(courseProgress, and(eq(courseProgress.courseId, enrollments.courseId), eq(courseProgress.userId, enrollments.userId)))
    .where(
      and(
        eq(enrollments.courseId, courseId),
        eq(enrollments.status, "active"),
        q.afterUserId ? sql`${enrollments.userId} > ${q.afterUserId}` : undefined,
        q.sectionIds ? sql`${enrollments.sectionId} = any(${sql.param([...q.sectionIds])}::uuid[])` : undefined,
      ),
    )
    .orderBy(enrollments.userId)
    .limit(q.limit + 1);
}
