import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { createLesson, createModule, findLesson, findModule, type LessonRow, reorderLessons, updateLesson, updateModule } from "../../../domain/catalog/content.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { openDomainDatabase } from "../../support/domain-database.js";
import { createCourse } from "../../support/identity.js";

let db: TestDatabase;
let ctx: DomainContext;
beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

async function moduleIn(courseId: string) {
  const created = await createModule(ctx, courseId, { title: "M" });
  if (!created.ok) throw new Error(created.error.code);
  return { courseId, moduleId: created.value.id };
}

describe("a module addressed under its course", () => {
  it("is changed, given lessons and reordered there, and not found under another course", async () => {
    const mine = await moduleIn(await createCourse(db));
    const foreign = { courseId: await createCourse(db), moduleId: mine.moduleId };

    expect(await updateModule(ctx, foreign, { title: "Taken" })).toMatchObject({ ok: false, error: { code: "MODULE_NOT_FOUND" } });
    expect(await createLesson(ctx, foreign, { title: "L", kind: "text", body: "x" })).toMatchObject({ ok: false, error: { code: "MODULE_NOT_FOUND" } });
    expect(await reorderLessons(ctx, foreign, [])).toMatchObject({ ok: false, error: { code: "MODULE_NOT_FOUND" } });
    expect((await findModule(db.db, mine.moduleId))?.title).toBe("M");
    expect(await db.sql`select 1 from lessons where module_id = ${mine.moduleId}`).toHaveLength(0);

    expect(await updateModule(ctx, mine, { title: "Renamed" })).toMatchObject({ ok: true, value: { title: "Renamed" } });
    const [a, b] = [await createLesson(ctx, mine, { title: "a", kind: "text", body: "x" }), await createLesson(ctx, mine, { title: "b", kind: "text", body: "x" })];
    if (!a.ok || !b.ok) throw new Error("lessons not created");
    const reordered = await reorderLessons(ctx, mine, [b.value.id, a.value.id]);
    expect(reordered.ok && reordered.value.map((l) => l.title)).toEqual(["b", "a"]);
  });
});

describe("updateLesson's precondition", () => {
  it("sees the lesson as it is before the change, and a refusal it throws changes nothing", async () => {
    const mine = await moduleIn(await createCourse(db));
    const created = await createLesson(ctx, mine, { title: "Before", kind: "text", body: "x" });
    if (!created.ok) throw new Error(created.error.code);
    const lessonId = created.value.id;

    const seen: LessonRow[] = [];
    const changed = await db.db.transaction((tx) => updateLesson({ ...ctx, db: tx }, lessonId, { title: "After" }, (current) => void seen.push(current)));
    expect(changed).toMatchObject({ ok: true, value: { title: "After", version: created.value.version + 1 } });
    expect(seen.map((l) => [l.title, l.version])).toEqual([["Before", created.value.version]]);

    const refusal = new Error("stale");
    await expect(
      db.db.transaction((tx) =>
        updateLesson({ ...ctx, db: tx }, lessonId, { title: "Lost" }, () => {
          throw refusal;
        }),
      ),
    ).rejects.toBe(refusal);
    expect((await findLesson(db.db, lessonId))?.title).toBe("After");
  });

  it("is not asked about a lesson that does not exist", async () => {
    let asked = false;
    expect(await updateLesson(ctx, uuidv7(), { title: "x" }, () => void (asked = true))).toMatchObject({ ok: false, error: { code: "LESSON_NOT_FOUND" } });
    expect(asked).toBe(false);
  });
});
