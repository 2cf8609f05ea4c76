import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { anonymous, anyOf, authenticated, courseStaff, decide, owner, type Principal } from "../../../../functions/platform/http/access.js";
import { createTestDatabase, type TestDatabase } from "../../../support/database.js";
import { createCourse } from "../../../support/identity.js";

let db: TestDatabase;
const ids = { instructor: uuidv7(), grader: uuidv7(), learner: uuidv7(), admin: uuidv7() };
let course: string;
let otherCourse: string;

beforeAll(async () => {
  db = await createTestDatabase();
  for (const [name, id] of Object.entries(ids)) {
    await db.sql`insert into users (id, email, display_name, is_admin) values (${id}, ${`${name}-${id}@example.test`}, ${name}, ${name === "admin"})`;
  }
  course = await createCourse(db, [
    { userId: ids.instructor, role: "instructor" },
    { userId: ids.grader, role: "grader" },
  ]);
  otherCourse = await createCourse(db, [{ userId: ids.grader, role: "instructor" }]);
});
afterAll(async () => {
  await db?.drop();
});

const who = (userId: string, isAdmin = false): Principal => ({ userId, isAdmin, sessionId: null });

describe("access decisions", () => {
  it("course staff: resolve the course from the route param and check the caller's role in that course", async () => {
    const policy = courseStaff(["instructor"]);
    const params = { courseId: course };
    expect(await decide(policy, who(ids.instructor), params, db.db)).toBe("allow");
    expect(await decide(policy, who(ids.grader), params, db.db)).toBe("deny");
    expect(await decide(policy, who(ids.grader), { courseId: otherCourse }, db.db)).toBe("allow");
    expect(await decide(policy, who(ids.learner), params, db.db)).toBe("deny");
    expect(await decide(policy, who(ids.admin, true), params, db.db)).toBe("allow");
    expect(await decide(policy, anonymous, params, db.db)).toBe("deny");
  });

  it("course staff: resolve the course through a lookup, and a resource that resolves to nothing is not found", async () => {
    const lessons = new Map([["lesson-1", course]]);
    const policy = courseStaff(["instructor", "grader"], { describe: "lesson's course", resolve: async (p) => lessons.get(p.lessonId as string) ?? null });
    expect(await decide(policy, who(ids.grader), { lessonId: "lesson-1" }, db.db)).toBe("allow");
    expect(await decide(policy, who(ids.learner), { lessonId: "lesson-1" }, db.db)).toBe("deny");
    expect(await decide(policy, who(ids.grader), { lessonId: "missing" }, db.db)).toBe("not-found");
  });

  it("owner: the user named by the route, or an admin", async () => {
    const policy = owner();
    expect(await decide(policy, who(ids.learner), { userId: ids.learner }, db.db)).toBe("allow");
    expect(await decide(policy, who(ids.grader), { userId: ids.learner }, db.db)).toBe("deny");
    expect(await decide(policy, who(ids.admin, true), { userId: ids.learner }, db.db)).toBe("allow");
  });

  it("anyOf: allowed when one policy allows", async () => {
    const policy = anyOf(owner(), courseStaff(["grader"]));
    expect(await decide(policy, who(ids.grader), { userId: ids.learner, courseId: course }, db.db)).toBe("allow");
    expect(await decide(policy, who(ids.learner), { userId: ids.learner, courseId: course }, db.db)).toBe("allow");
    expect(await decide(policy, who(ids.instructor), { userId: ids.learner, courseId: course }, db.db)).toBe("deny");
    expect(await decide(authenticated, anonymous, {}, db.db)).toBe("deny");
  });
});
