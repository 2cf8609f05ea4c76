import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { changeAssessment } from "../../../domain/assessment/change-assessment.js";
import { assessmentSeenBy, listAssessments } from "../../../domain/assessment/manage-assessment.js";
import type { CourseViewer } from "../../../domain/catalog/viewer.js";
import type { CourseRole } from "../../../domain/db/schema/index.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { openDomainDatabase } from "../../support/domain-database.js";
import { createCourse } from "../../support/identity.js";

let db: TestDatabase;
let ctx: DomainContext;

beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

const viewer = (role: CourseRole | null, isAdmin = false): CourseViewer => ({ userId: uuidv7(), isAdmin, roleIn: async () => role });
const key = { q: { type: "true-false", correct: true } };

async function assessmentIn(courseId: string, title = "Q"): Promise<string> {
  const id = uuidv7();
  await db.sql`insert into assessments (id, course_id, title, kind, items) values (${id}, ${courseId}, ${title}, 'quiz', ${JSON.stringify([{ id: "q", type: "true-false", points: 1, prompt: "" }])}::jsonb)`;
  await db.sql`insert into assessment_keys (assessment_id, version, keys) values (${id}, 1, ${JSON.stringify(key)}::jsonb)`;
  return id;
}

describe("assessmentSeenBy", () => {
  it("gives the course's staff and admins the current key, learners none", async () => {
    const id = await assessmentIn(await createCourse(db));
    for (const staff of [viewer("instructor"), viewer("grader"), viewer(null, true)]) {
      expect(await assessmentSeenBy(db.db, id, staff)).toMatchObject({ ok: true, value: { assessment: { id }, keys: key } });
    }
    const learner = await assessmentSeenBy(db.db, id, viewer(null));
    expect(learner.ok && "keys" in learner.value).toBe(false);
    expect(await assessmentSeenBy(db.db, uuidv7(), viewer(null, true))).toMatchObject({ ok: false, error: { code: "ASSESSMENT_NOT_FOUND" } });
  });
});

describe("listAssessments", () => {
  it("lists the course's own assessments in id order", async () => {
    const courseId = await createCourse(db);
    const ids = [await assessmentIn(courseId, "A"), await assessmentIn(courseId, "B")];
    await assessmentIn(await createCourse(db), "Elsewhere");
    expect((await listAssessments(db.db, courseId)).map((a) => a.id)).toEqual([...ids].sort());
  });
});

describe("changeAssessment", () => {
  it("answers with the key that is current after the change, whether or not it changed", async () => {
    const id = await assessmentIn(await createCourse(db));
    const renamed = await db.db.transaction((tx) => changeAssessment({ ...ctx, db: tx }, id, { title: "Renamed" }));
    expect(renamed).toMatchObject({ ok: true, value: { assessment: { title: "Renamed", keyVersion: 1 }, keys: key } });
    const rekeyed = await db.db.transaction((tx) => changeAssessment({ ...ctx, db: tx }, id, { keys: { q: { type: "true-false", correct: false } } }));
    expect(rekeyed).toMatchObject({ ok: true, value: { assessment: { keyVersion: 2 }, keys: { q: { correct: false } } } });
  });
});
