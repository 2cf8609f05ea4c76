import { afterAll, beforeAll, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { courseSeenBy, seesAsStaff } from "../../../domain/catalog/viewer.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { createCourse } from "../../support/identity.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function user(): Promise<string> {
  const id = uuidv7();
  await db.sql`insert into users (id, email, display_name) values (${id}, ${`${id}@example.test`}, 'U')`;
  return id;
}

const anonymous = { userId: null, isAdmin: false };

it("shows a published course to everyone, a draft to its staff and admins, an archived one to them and former learners", async () => {
  const [instructor, former, outsider] = [await user(), await user(), await user()];
  const byStatus: Record<string, string> = {};
  for (const status of ["published", "draft", "archived"]) {
    const id = await createCourse(db, [{ userId: instructor, role: "instructor" }]);
    await db.sql`update courses set status = ${status} where id = ${id}`;
    await db.sql`insert into enrollments (id, course_id, user_id, status, source, enrolled_at) values (${uuidv7()}, ${id}, ${former}, 'dropped', 'self', now())`;
    byStatus[status] = id;
  }
  const viewers = { anonymous, outsider: { userId: outsider, isAdmin: false }, former: { userId: former, isAdmin: false }, instructor: { userId: instructor, isAdmin: false }, admin: { userId: outsider, isAdmin: true } };
  const seen: Record<string, string[]> = {};
  for (const [status, id] of Object.entries(byStatus)) {
    seen[status] = [];
    for (const [who, viewer] of Object.entries(viewers)) {
      const result = await courseSeenBy(db.db, id, viewer);
      if (result.ok) {
        expect(result.value.id).toBe(id);
        seen[status].push(who);
      } else expect(result.error.code).toBe("COURSE_NOT_FOUND");
    }
  }
  expect(seen).toEqual({
    published: ["anonymous", "outsider", "former", "instructor", "admin"],
    draft: ["instructor", "admin"],
    archived: ["former", "instructor", "admin"],
  });
});

it("answers a course that does not exist as not found, for admins too", async () => {
  expect(await courseSeenBy(db.db, uuidv7(), { userId: await user(), isAdmin: true })).toMatchObject({ ok: false, error: { code: "COURSE_NOT_FOUND" } });
});

it("counts admins and staff of any role as staff, and asks for the role only when needed", async () => {
  const asked: string[] = [];
  const viewer = (isAdmin: boolean, role: "instructor" | "grader" | null) => ({
    userId: uuidv7(),
    isAdmin,
    roleIn: async (courseId: string) => {
      asked.push(courseId);
      return role;
    },
  });
  expect([await seesAsStaff(viewer(false, "grader"), "c1"), await seesAsStaff(viewer(false, "instructor"), "c2"), await seesAsStaff(viewer(false, null), "c3")]).toEqual([true, true, false]);
  expect(await seesAsStaff(viewer(true, null), "c4")).toBe(true);
  expect(asked).toEqual(["c1", "c2", "c3"]);
});
