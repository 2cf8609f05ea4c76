import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAssessment } from "../../../domain/assessment/manage-assessment.js";
import { deleteBank } from "../../../domain/banks/question-banks.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";
import { createCourse } from "../../support/identity.js";

let db: TestDatabase;
let ctx: DomainContext;
let courseId: string;

beforeAll(async () => {
  ({ db, ctx } = await openDomainDatabase());
  courseId = await createCourse(db);
});
afterAll(async () => {
  await db?.drop();
});

describe("pool checks against a bank being deleted", () => {
  it("a bank deleted while an assessment's pools are checked waits for the save, then is refused", async () => {
    const bankId = uuidv7();
    await db.sql`insert into question_banks (id, course_id, title) values (${bankId}, ${courseId}, 'B')`;
    await db.sql`insert into bank_items (id, bank_id, type, tags) values (${uuidv7()}, ${bankId}, 'true-false', '{t}')`;
    let checked!: () => void;
    const poolsChecked = new Promise<void>((r) => (checked = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const creating = inTransactionOf(db, ctx)(async (tx) => {
      const r = await createAssessment(tx, courseId, {
        title: "Pooled",
        kind: "quiz",
        items: [],
        keys: {},
        attemptsAllowed: 1,
        scoringPolicy: "highest",
        timeLimitMinutes: null,
        availableFrom: null,
        dueAt: null,
        lockAt: null,
        latePolicy: { kind: "none" },
        releaseMode: "immediate",
        category: "quiz",
        pools: [{ id: "p", bankId, count: 1, tags: ["t"] }],
        shuffleItems: false,
        shuffleChoices: false,
      });
      checked();
      await held;
      return r;
    });
    await poolsChecked;
    let settled = false;
    const deleting = inTransactionOf(db, ctx)((tx) => deleteBank(tx, bankId)).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    // Without the check's lock the delete would go through here, and the new assessment would name no bank.
    expect(settled).toBe(false);
    release();
    expect((await creating).ok).toBe(true);
    const deleted = await deleting;
    expect(deleted.ok === false && deleted.error.code).toBe("QUESTION_BANK_IN_USE");
    expect(await db.sql`select 1 from question_banks where id = ${bankId}`).toHaveLength(1);
  });
});
