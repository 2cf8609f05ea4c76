import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { attemptOwnership, submissionWithFiles } from "../../../domain/assessment/submissions.js";
import type { FileStore } from "../../../domain/catalog/file-store.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { createCourse } from "../../support/identity.js";

let db: TestDatabase;
let courseId: string;
let assessmentId: string;
let learner: string;

beforeAll(async () => {
  db = await createTestDatabase();
  courseId = await createCourse(db);
  assessmentId = uuidv7();
  await db.sql`insert into assessments (id, course_id, title, kind, items) values (${assessmentId}, ${courseId}, 'A', 'assignment', '[]'::jsonb)`;
  learner = uuidv7();
  await db.sql`insert into users (id, email, display_name) values (${learner}, ${`${learner}@example.test`}, 'L')`;
});
afterAll(async () => {
  await db?.drop();
});

const signed: string[] = [];
const store: FileStore = {
  uploadUrl: () => Promise.reject(new Error("not in this test")),
  downloadUrl: (blobName) => {
    signed.push(blobName);
    return Promise.resolve({ url: `https://files.test/${blobName}`, expiresAt: new Date() });
  },
  stat: () => Promise.reject(new Error("not in this test")),
};

let attempts = 0;
async function attempt(status: "in-progress" | "submitted", answers: (id: string) => Record<string, unknown>): Promise<string> {
  const id = uuidv7();
  await db.sql`insert into attempts (id, assessment_id, course_id, user_id, number, status, started_at, submitted_at, answers)
    values (${id}, ${assessmentId}, ${courseId}, ${learner}, ${++attempts}, ${status}, now(), ${status === "submitted" ? new Date().toISOString() : null}::timestamptz, ${JSON.stringify(answers(id))}::jsonb)`;
  return id;
}

describe("submissionWithFiles", () => {
  it("gives read URLs for file answers under the submission's own prefix, and for nothing else", async () => {
    const id = await attempt("submitted", (self) => ({
      f: `submissions/${courseId}/${self}/f/a.pdf`,
      other: `submissions/${courseId}/${uuidv7()}/f/b.pdf`,
      text: "plain words",
      n: 3,
    }));
    signed.length = 0;
    const result = await submissionWithFiles(db.db, store, id, uuidv7());
    expect(result).toMatchObject({ ok: true, value: { submission: { id, status: "submitted" }, files: { f: `https://files.test/submissions/${courseId}/${id}/f/a.pdf` } } });
    expect(result.ok && Object.keys(result.value.files)).toEqual(["f"]);
    expect(signed).toEqual([`submissions/${courseId}/${id}/f/a.pdf`]);
  });

  it("finds no submission in an attempt still in progress, nor in one that does not exist", async () => {
    const open = await attempt("in-progress", () => ({}));
    for (const id of [open, uuidv7()]) expect(await submissionWithFiles(db.db, store, id, uuidv7())).toEqual({ ok: false, error: { code: "ATTEMPT_NOT_FOUND", detail: "No such submission." } });
  });
});

describe("attemptOwnership", () => {
  it("names the attempt's learner and course, submitted or not", async () => {
    const open = await attempt("in-progress", () => ({}));
    expect(await attemptOwnership(db.db, open)).toEqual({ userId: learner, courseId });
    expect(await attemptOwnership(db.db, uuidv7())).toBeNull();
  });
});
