import { and, asc, eq, inArray, isNull } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courses, lessons, modules } from "../db/schema/index.js";
import { fail, ok, type Result } from "../shared/result.js";
import { courseOutline, findLesson, findModule, type LessonRow, type ModuleRow } from "./content.js";
import type { FileStore } from "./file-store.js";
import { DOWNLOAD_URL_TTL_SECONDS } from "./lesson-files.js";
import { completedBy, type LessonPlace, lessonLock, lessonLocks, type LockReason } from "./lesson-locks.js";
import { type CourseViewer, seesAsStaff } from "./viewer.js";

/** A lesson as its viewer may see it. Staff see every lesson open, with no completion of their own. */
export interface LessonView {
  lesson: LessonRow;
  /** Why the lesson is not open to the learner yet; null when it is (always for staff). */
  locked: LockReason | null;
  /** Whether the learner completed it; null for staff. */
  completed: boolean | null;
  /**
   * A short-lived read URL, for an open file lesson whose file is ready; a PDF also gets `viewUrl`, the same file
   * with an inline disposition, for showing it in a frame (the attachment one downloads instead).
   */
  download: { url: string; viewUrl: string | null; expiresAt: Date } | null;
}

export interface ModuleView {
  module: ModuleRow;
  lessons: LessonView[];
}

type Unsigned = Omit<LessonView, "download">;

/** Download links are made only for the lessons shown: signing one may need a key from storage. */
async function signed(store: FileStore, view: Unsigned): Promise<LessonView> {
  const { lesson, locked } = view;
  if (!(lesson.kind === "file" && lesson.fileStatus === "ready" && lesson.fileBlobName && locked === null)) return { ...view, download: null };
  const name = lesson.fileName ?? undefined;
  const [file, inline] = await Promise.all([
    store.downloadUrl(lesson.fileBlobName, DOWNLOAD_URL_TTL_SECONDS, name),
    lesson.fileContentType === "application/pdf" ? store.downloadUrl(lesson.fileBlobName, DOWNLOAD_URL_TTL_SECONDS, name, { inline: true }) : null,
  ]);
  return { ...view, download: { url: file.url, viewUrl: inline?.url ?? null, expiresAt: file.expiresAt } };
}

const signedAll = (store: FileStore, views: Unsigned[]) => Promise.all(views.map((v) => signed(store, v)));

/**
 * The course's outline as `viewer` may see it: staff see hidden content too; learners see what is not hidden,
 * each lesson with its lock and their completion, in two queries whatever the number of lessons.
 */
async function outlineFor(db: Executor, courseId: string, viewer: CourseViewer, now: Date): Promise<{ module: ModuleRow; lessons: Unsigned[] }[]> {
  if (await seesAsStaff(viewer, courseId)) {
    return (await courseOutline(db, courseId, true)).map((o) => ({ module: o.module, lessons: o.lessons.map((lesson) => ({ lesson, locked: null, completed: null })) }));
  }
  const mods = await db
    .select({ module: modules, sequential: courses.sequentialProgress })
    .from(modules)
    .innerJoin(courses, eq(courses.id, modules.courseId))
    .where(and(eq(modules.courseId, courseId), isNull(modules.hiddenAt)))
    .orderBy(asc(modules.position), asc(modules.id));
  if (mods.length === 0) return [];
  const rows = await db
    .select({ lesson: lessons, done: completedBy(viewer.userId) })
    .from(lessons)
    .where(
      and(
        inArray(
          lessons.moduleId,
          mods.map((m) => m.module.id),
        ),
        isNull(lessons.hiddenAt),
      ),
    )
    .orderBy(asc(lessons.position), asc(lessons.id));
  const positions = new Map(mods.map((m) => [m.module.id, m.module.position]));
  const placeOf = (l: LessonRow): LessonPlace => ({ ...l, modulePosition: positions.get(l.moduleId) ?? 0 });
  const lockOf = lessonLocks(
    rows.map((r) => placeOf(r.lesson)),
    new Set(rows.filter((r) => r.done).map((r) => r.lesson.id)),
    mods[0]?.sequential ?? false,
    now,
  );
  return mods.map(({ module }) => ({
    module,
    lessons: rows.filter((r) => r.lesson.moduleId === module.id).map((r) => ({ lesson: r.lesson, locked: lockOf(placeOf(r.lesson)), completed: r.done })),
  }));
}

/** The course's modules with their lessons, in order, as `viewer` may see them (see `outlineFor`). */
export async function courseContentFor(db: Executor, store: FileStore, courseId: string, viewer: CourseViewer, now: Date): Promise<ModuleView[]> {
  const outline = await outlineFor(db, courseId, viewer, now);
  return Promise.all(outline.map(async (o) => ({ module: o.module, lessons: await signedAll(store, o.lessons) })));
}

/** One module's lessons as `viewer` may see them; a module of another course, or hidden from a learner, is not found. */
export async function moduleLessonsFor(
  db: Executor,
  store: FileStore,
  ref: { courseId: string; moduleId: string },
  viewer: CourseViewer,
  now: Date,
): Promise<Result<LessonView[], "MODULE_NOT_FOUND">> {
  // The whole outline: a lesson's lock depends on the modules before its own.
  const found = (await outlineFor(db, ref.courseId, viewer, now)).find((o) => o.module.id === ref.moduleId);
  return found ? ok(await signedAll(store, found.lessons)) : fail("MODULE_NOT_FOUND");
}

/** One lesson as `viewer` may see it; a hidden lesson, or one in a hidden module, is not found for a learner. */
export async function lessonFor(
  db: Executor,
  store: FileStore,
  lessonId: string,
  viewer: CourseViewer,
  now: Date,
): Promise<Result<{ view: LessonView; asStaff: boolean }, "LESSON_NOT_FOUND">> {
  const lesson = await findLesson(db, lessonId);
  if (!lesson) return fail("LESSON_NOT_FOUND");
  if (await seesAsStaff(viewer, lesson.courseId)) return ok({ view: await signed(store, { lesson, locked: null, completed: null }), asStaff: true });
  if (lesson.hiddenAt || (await findModule(db, lesson.moduleId))?.hiddenAt) return fail("LESSON_NOT_FOUND");
  const [locked, [completion]] = await Promise.all([
    lessonLock(db, lesson, viewer.userId, now),
    db.select({ done: completedBy(viewer.userId) }).from(lessons).where(eq(lessons.id, lesson.id)),
  ]);
  return ok({ view: await signed(store, { lesson, locked, completed: completion?.done ?? false }), asStaff: false });
}
