import { afterAll, beforeAll, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { completeDataExport } from "../../../domain/privacy/data-exports.js";
import { erasePersonalData } from "../../../domain/privacy/erasure.js";
import { eraseWhenDue, overdueErasures } from "../../../domain/privacy/erasure-requests.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase, testErasureKeys } from "../../support/domain-database.js";
import { insertUser, recordingDeletions } from "../../support/privacy-fixtures.js";

let db: TestDatabase;
let ctx: DomainContext;
beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

const deletions = recordingDeletions;
const user = () => insertUser(db);

async function request(userId: string, status: "scheduled" | "completed", dueInMs: number): Promise<string> {
  const [row] = await db.sql<{ id: string }[]>`
    insert into erasure_requests (id, user_id, status, requested_by_user_id, due_at, created_at, updated_at)
    values (${uuidv7()}, ${userId}, ${status}, ${userId}, ${new Date(Date.now() + dueInMs).toISOString()}::timestamptz, now(), now()) returning id`;
  return row?.id as string;
}

it("refuses to carry out an erasure before it is due (the activity is retried) and deletes no file", async () => {
  const userId = await user();
  const id = await request(userId, "scheduled", 3_600_000);
  const { removed, files } = deletions();
  await expect(eraseWhenDue(ctx, files, id, testErasureKeys)).rejects.toThrow(/not due before/);
  expect(removed).toEqual([]);
  expect(await db.sql`select status from erasure_requests where id = ${id}`).toEqual([{ status: "scheduled" }]);
  expect(await db.sql`select erased_at from users where id = ${userId}`).toEqual([{ erased_at: null }]);
});

it("deletes the files of a due erasure before the database part, certificates by course prefix too, and the export prefix again after it", async () => {
  const userId = await user();
  const courseId = uuidv7();
  await db.sql`insert into courses (id, title, created_by_user_id) values (${courseId}, 'Botany', ${userId})`;
  await db.sql`insert into enrollments (id, course_id, user_id, status, source) values (${uuidv7()}, ${courseId}, ${userId}, 'active', 'self')`;
  const id = await request(userId, "scheduled", -1_000);
  const { removed, files } = deletions();
  expect(await eraseWhenDue(ctx, files, id, testErasureKeys)).toEqual({ erased: true });
  expect(removed).toEqual([`certificates/${courseId}/${userId}/`, `privacy-exports/${userId}/`, `leave/${userId}/`, `privacy-exports/${userId}/`]);
  expect((await db.sql<{ erased_at: Date | null }[]>`select erased_at from users where id = ${userId}`)[0]?.erased_at).not.toBeNull();
  // A retry finds it done.
  expect(await eraseWhenDue(ctx, deletions().files, id, testErasureKeys)).toEqual({ erased: false });
});

it("lists a completed request whose user is not erased yet (cut off after its claim) for housekeeping, which finishes it", async () => {
  const userId = await user();
  const id = await request(userId, "completed", -60_000);
  expect(await overdueErasures(db.db, new Date())).toContain(id);
  expect(await eraseWhenDue(ctx, deletions().files, id, testErasureKeys)).toEqual({ erased: true });
  expect(await overdueErasures(db.db, new Date())).not.toContain(id);
});

it("makes an export completing during an erasure wait for it, then match nothing (it discards its archive)", async () => {
  const userId = await user();
  const exportId = uuidv7();
  await db.sql`insert into data_exports (id, user_id, status, progress, requested_at, started_at) values (${exportId}, ${userId}, 'running', '{"step":"archive","stepsDone":10,"stepsTotal":12}', now(), now())`;
  const link = { url: "https://files.example.test/archive.zip", expiresAt: new Date(Date.now() + 3_600_000) };
  let completed: Promise<boolean> | undefined;
  await inTransactionOf(db, ctx)(async (tx) => {
    await erasePersonalData(tx, userId, testErasureKeys);
    completed = inTransactionOf(db, ctx)((other) => completeDataExport(other, { exportId, blobName: `privacy-exports/${userId}/${exportId}.zip`, retentionDays: 7, link }));
    const first = await Promise.race([completed.then(() => "completed"), new Promise((r) => setTimeout(() => r("waiting"), 300))]);
    expect(first).toBe("waiting");
  });
  expect(await completed).toBe(false);
  expect(await db.sql`select 1 from data_exports where user_id = ${userId}`).toEqual([]);
});
