import { and, asc, count, eq, inArray, isNull, max, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courses, lessonCompletions, type LessonKind, lessons, modules } from "../db/schema/index.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { CatalogErrorCode } from "./catalog.errors.js";
import { lessonLock } from "./lesson-locks.js";

export type ModuleRow = typeof modules.$inferSelect;
export type LessonRow = typeof lessons.$inferSelect;

export interface LessonInput {
  title: string;
  kind: LessonKind;
  body?: string | null;
  url?: string | null;
  assessmentId?: string | null;
  unlockAt?: Date | null;
  required?: boolean;
}

/** What a kind of lesson needs: a text has a body, a link a URL, an assessment lesson its assessment. */
function kindProblem(l: Pick<LessonInput, "kind" | "body" | "url" | "assessmentId">): string | null {
  if (l.kind === "text" && !l.body) return "a text lesson needs a body";
  if (l.kind === "link" && !l.url) return "a link lesson needs a url";
  if (l.kind === "assessment" && !l.assessmentId) return "an assessment lesson needs an assessmentId";
  return null;
}

export async function findModule(db: Executor, moduleId: string): Promise<ModuleRow | null> {
  const [row] = await db.select().from(modules).where(eq(modules.id, moduleId));
  return row ?? null;
}

/** Where a module is addressed: under its course (`/courses/{courseId}/modules/{moduleId}`); another course's module is not found. */
export interface ModuleRef {
  courseId: string;
  moduleId: string;
}

async function moduleOfCourse(db: Executor, ref: ModuleRef): Promise<ModuleRow | null> {
  const mod = await findModule(db, ref.moduleId);
  return mod && mod.courseId === ref.courseId ? mod : null;
}

export async function findLesson(db: Executor, lessonId: string): Promise<LessonRow | null> {
  const [row] = await db.select().from(lessons).where(eq(lessons.id, lessonId));
  return row ?? null;
}

export async function createModule(ctx: DomainContext, courseId: string, input: { title: string }): Promise<Result<ModuleRow, CatalogErrorCode>> {
  const [course] = await ctx.db.select({ status: courses.status }).from(courses).where(eq(courses.id, courseId)).for("update");
  if (!course) return fail("COURSE_NOT_FOUND");
  if (course.status === "archived") return fail("COURSE_ARCHIVED");
  const [last] = await ctx.db.select({ p: max(modules.position) }).from(modules).where(eq(modules.courseId, courseId));
  const now = ctx.now();
  const [row] = await ctx.db
    .insert(modules)
    .values({ id: ctx.newId(), courseId, title: input.title, position: (last?.p ?? 0) + 1, createdAt: now, updatedAt: now })
    .returning();
  return ok(row as ModuleRow);
}

export async function updateModule(ctx: DomainContext, ref: ModuleRef, patch: { title?: string; hidden?: boolean }): Promise<Result<ModuleRow, CatalogErrorCode>> {
  const now = ctx.now();
  const [row] = await ctx.db
    .update(modules)
    .set({
      ...(patch.title !== undefined ? { title: patch.title } : {}),
      ...(patch.hidden !== undefined ? { hiddenAt: patch.hidden ? now : null } : {}),
      updatedAt: now,
    })
    .where(and(eq(modules.id, ref.moduleId), eq(modules.courseId, ref.courseId)))
    .returning();
  return row ? ok(row) : fail("MODULE_NOT_FOUND");
}

/** Sets a new order; the list must name exactly the existing items. */
async function reorder(ctx: DomainContext, table: typeof modules | typeof lessons, scope: ReturnType<typeof eq>, ids: string[]): Promise<Result<null, "REORDER_MISMATCH">> {
  const existing = await ctx.db.select({ id: table.id }).from(table).where(scope).for("update");
  const known = new Set(existing.map((r) => r.id));
  if (ids.length !== known.size || new Set(ids).size !== ids.length || !ids.every((id) => known.has(id))) {
    return fail("REORDER_MISMATCH", "List every item exactly once.");
  }
  const now = ctx.now();
  for (const [index, id] of ids.entries()) {
    if (table === lessons) {
      // A lesson's ETag comes from its version: a move changes what clients hold, so it bumps it.
      await ctx.db.update(lessons).set({ position: index + 1, version: sql`${lessons.version} + 1`, updatedAt: now }).where(eq(lessons.id, id));
    } else {
      await ctx.db.update(modules).set({ position: index + 1, updatedAt: now }).where(eq(modules.id, id));
    }
  }
  return ok(null);
}

export async function reorderModules(ctx: DomainContext, courseId: string, ids: string[]): Promise<Result<ModuleRow[], CatalogErrorCode>> {
  const done = await reorder(ctx, modules, eq(modules.courseId, courseId), ids);
  if (!done.ok) return done;
  return ok(await ctx.db.select().from(modules).where(eq(modules.courseId, courseId)).orderBy(asc(modules.position)));
}

export async function reorderLessons(ctx: DomainContext, ref: ModuleRef, ids: string[]): Promise<Result<LessonRow[], CatalogErrorCode>> {
  if (!(await moduleOfCourse(ctx.db, ref))) return fail("MODULE_NOT_FOUND");
  const { moduleId } = ref;
  const done = await reorder(ctx, lessons, eq(lessons.moduleId, moduleId), ids);
  if (!done.ok) return done;
  return ok(await ctx.db.select().from(lessons).where(eq(lessons.moduleId, moduleId)).orderBy(asc(lessons.position)));
}

export async function createLesson(ctx: DomainContext, ref: ModuleRef, input: LessonInput): Promise<Result<LessonRow, CatalogErrorCode>> {
  const mod = await moduleOfCourse(ctx.db, ref);
  if (!mod) return fail("MODULE_NOT_FOUND");
  const { moduleId } = ref;
  const problem = kindProblem(input);
  if (problem) return fail("INVALID_COURSE_SETTINGS", problem);
  await ctx.db.select({ id: modules.id }).from(modules).where(eq(modules.id, moduleId)).for("update");
  const [last] = await ctx.db.select({ p: max(lessons.position) }).from(lessons).where(eq(lessons.moduleId, moduleId));
  const now = ctx.now();
  const [row] = await ctx.db
    .insert(lessons)
    .values({
      id: ctx.newId(),
      moduleId,
      courseId: mod.courseId,
      title: input.title,
      kind: input.kind,
      body: input.body ?? null,
      url: input.url ?? null,
      assessmentId: input.assessmentId ?? null,
      unlockAt: input.unlockAt ?? null,
      required: input.required ?? true,
      ...(input.kind === "file" ? { fileStatus: "awaiting-upload" as const } : {}),
      position: (last?.p ?? 0) + 1,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return ok(row as LessonRow);
}

/**
 * Changes a lesson. `precondition` sees the current lesson, locked, before anything changes: the edge compares
 * the request's If-Match with it there (and throws its 412), so no change slips in between the check and the write.
 */
export async function updateLesson(
  ctx: DomainContext,
  lessonId: string,
  patch: Partial<Omit<LessonInput, "kind">> & { hidden?: boolean },
  precondition?: (current: LessonRow) => void,
): Promise<Result<LessonRow, CatalogErrorCode>> {
  const [current] = await ctx.db.select().from(lessons).where(eq(lessons.id, lessonId)).for("update");
  if (!current) return fail("LESSON_NOT_FOUND");
  precondition?.(current);
  const { hidden, ...fields } = patch;
  const problem = kindProblem({ ...current, ...fields });
  if (problem) return fail("INVALID_COURSE_SETTINGS", problem);
  const now = ctx.now();
  const [row] = await ctx.db
    .update(lessons)
    .set({ ...fields, ...(hidden !== undefined ? { hiddenAt: hidden ? now : null } : {}), version: current.version + 1, updatedAt: now })
    .where(eq(lessons.id, lessonId))
    .returning();
  return ok(row as LessonRow);
}

/** Deletes a lesson nobody has worked in; one with learner work can only be hidden. */
export async function deleteLesson(ctx: DomainContext, lessonId: string): Promise<Result<null, CatalogErrorCode>> {
  const lesson = await findLesson(ctx.db, lessonId);
  if (!lesson) return fail("LESSON_NOT_FOUND");
  const [work] = await ctx.db.select({ n: count() }).from(lessonCompletions).where(eq(lessonCompletions.lessonId, lessonId));
  if ((work?.n ?? 0) > 0) return fail("CONTENT_HAS_LEARNER_WORK", "Learners have work in this lesson: hide it instead.", { learners: work?.n });
  await ctx.db.delete(lessons).where(eq(lessons.id, lessonId));
  return ok(null);
}

export interface ContentOutline {
  module: ModuleRow;
  lessons: LessonRow[];
}

/** The course's modules with their lessons, in order; hidden ones only when `includeHidden`. */
export async function courseOutline(db: Executor, courseId: string, includeHidden: boolean): Promise<ContentOutline[]> {
  const mods = await db
    .select()
    .from(modules)
    .where(and(eq(modules.courseId, courseId), includeHidden ? undefined : isNull(modules.hiddenAt)))
    .orderBy(asc(modules.position), asc(modules.id));
  if (mods.length === 0) return [];
  const ls = await db
    .select()
    .from(lessons)
    .where(
      and(
        inArray(
          lessons.moduleId,
          mods.map((m) => m.id),
        ),
        includeHidden ? undefined : isNull(lessons.hiddenAt),
      ),
    )
    .orderBy(asc(lessons.position), asc(lessons.id));
  return mods.map((m) => ({ module: m, lessons: ls.filter((l) => l.moduleId === m.id) }));
}

/** Marks a lesson completed for a learner, once; the event goes out only the first time. */
export async function completeLesson(ctx: DomainContext, lessonId: string, userId: string): Promise<Result<{ completedAt: Date; first: boolean }, CatalogErrorCode>> {
  const lesson = await findLesson(ctx.db, lessonId);
  if (!lesson || lesson.hiddenAt || (await findModule(ctx.db, lesson.moduleId))?.hiddenAt) return fail("LESSON_NOT_FOUND");
  const lock = await lessonLock(ctx.db, lesson, userId, ctx.now());
  if (lock) return fail("LESSON_LOCKED", lock === "unlocks-later" ? "This lesson is not open yet." : "Complete the earlier lessons first.", { reason: lock });
  const now = ctx.now();
  const [inserted] = await ctx.db
    .insert(lessonCompletions)
    .values({ lessonId, userId, courseId: lesson.courseId, completedAt: now })
    .onConflictDoNothing()
    .returning({ completedAt: lessonCompletions.completedAt });
  if (!inserted) {
    const [existing] = await ctx.db
      .select({ completedAt: lessonCompletions.completedAt })
      .from(lessonCompletions)
      .where(and(eq(lessonCompletions.lessonId, lessonId), eq(lessonCompletions.userId, userId)));
    return ok({ completedAt: existing?.completedAt ?? now, first: false });
  }
  await recordEvent(ctx, {
    type: "lesson.completed",
    aggregateType: "lesson",
    aggregateId: lessonId,
    courseId: lesson.courseId,
    data: { lessonId, courseId: lesson.courseId, userId, completedAt: now.toISOString() },
  });
  return ok({ completedAt: now, first: true });
}
