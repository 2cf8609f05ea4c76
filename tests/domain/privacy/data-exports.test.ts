import { afterAll, beforeAll, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import {
  completeDataExport,
  type ExportRuns,
  expireDataExports,
  exportArchiveName,
  exportStagingPrefix,
  failDataExport,
  requestDataExport,
  stalledDataExport,
  startDataExport,
  viewOf,
} from "../../../domain/privacy/data-exports.js";
import { housekeeping } from "../../../domain/maintenance/housekeeping.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";
import { insertUser, recordingDeletions } from "../../support/privacy-fixtures.js";

let db: TestDatabase;
let ctx: DomainContext;
beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

const alive = { isRunning: async () => true };
const ended = { isRunning: async () => false };

/** As the edge does it: the stalled verdict first (Durable asked outside any transaction), then the request. */
async function request(on: DomainContext, userId: string, runs: ExportRuns) {
  const stalled = await stalledDataExport(db.db, userId, runs, new Date());
  return requestDataExport(on, userId, stalled);
}

const deletions = recordingDeletions;
const user = () => insertUser(db);

it("lets one of many racing requests start an export and tells the others which one is under way", async () => {
  const userId = await user();
  const outcomes = await Promise.all(Array.from({ length: 6 }, () => stalledDataExport(db.db, userId, alive, new Date()).then((stalled) => inTransactionOf(db, ctx)((tx) => requestDataExport(tx, userId, stalled)))));
  const started = outcomes.filter((o) => o.ok);
  expect(started).toHaveLength(1);
  const id = started[0]?.ok ? started[0].value.id : "";
  for (const o of outcomes.filter((x) => !x.ok)) expect(o.ok ? null : o.error).toEqual({ code: "EXPORT_IN_PROGRESS", detail: expect.any(String), extensions: { exportId: id } });
  expect(await db.sql`select 1 from audit_log where action = 'privacy.export-requested' and target_id = ${userId}`).toHaveLength(1);

  // Once it failed, the user may ask again.
  await failDataExport(db.db, id, "Blob Storage refused", new Date());
  expect((await request(ctx, userId, alive)).ok).toBe(true);
});

it("fails an export whose orchestration ended (or that ran too long) when its owner asks again, and lets the new request through", async () => {
  const userId = await user();
  const first = await request(ctx, userId, ended);
  if (!first.ok) throw new Error("not requested");
  // Young: its start may still be on its way, whatever the orchestration says.
  expect((await request(ctx, userId, ended)).ok).toBe(false);
  await db.sql`update data_exports set status = 'running', started_at = now() - interval '2 minutes' where id = ${first.value.id}`;
  expect((await request(ctx, userId, alive)).ok).toBe(false);
  // A verdict about another export than the one at work (it changed between the look and the transaction) fails nothing.
  expect((await requestDataExport(ctx, userId, uuidv7())).ok).toBe(false);
  const second = await request(ctx, userId, ended);
  expect(second.ok).toBe(true);
  // The caller deletes the stalled export's files after the commit: it is told which.
  expect(second.ok && second.value.replaced).toEqual({ userId, exportId: first.value.id });
  expect(await db.sql`select status, error from data_exports where id = ${first.value.id}`).toEqual([{ status: "failed", error: expect.stringContaining("stalled") }]);

  // Housekeeping fails an export at work for longer than any should take, whatever its orchestration says, and
  // deletes its staged parts and any archive it wrote.
  const secondId = second.ok ? second.value.id : "";
  await db.sql`update data_exports set requested_at = now() - interval '25 hours' where id = ${secondId}`;
  const { removed, files } = deletions();
  const purged = await housekeeping(db.db, new Date(), { eventDays: 30, tokenDays: 30 }, files);
  expect(purged.stalledDataExports).toBeGreaterThanOrEqual(1);
  expect(removed).toEqual(expect.arrayContaining([exportStagingPrefix(userId, secondId), exportArchiveName(userId, secondId)]));
  expect(await db.sql`select status from data_exports where id = ${second.ok ? second.value.id : ""}`).toEqual([{ status: "failed" }]);
  expect((await request(ctx, userId, alive)).ok).toBe(true);
});

it("completes a running export once: one audit entry, one email in the user's language", async () => {
  const userId = await user();
  const requested = await request(ctx, userId, alive);
  if (!requested.ok) throw new Error("not requested");
  const exportId = requested.value.id;
  expect(await startDataExport(ctx, exportId)).toEqual({ userId });
  const input = { exportId, blobName: `privacy-exports/${userId}/${exportId}.zip`, retentionDays: 7, link: { url: "https://files.test/export.zip?sig=1", expiresAt: new Date(Date.now() + 3_600_000) } };
  expect(await inTransactionOf(db, ctx)((tx) => completeDataExport(tx, input))).toBe(true);
  expect(await inTransactionOf(db, ctx)((tx) => completeDataExport(tx, input))).toBe(false);
  // A finished export is not started again (a replayed orchestration does nothing).
  expect(await startDataExport(ctx, exportId)).toBeNull();
  const mails = await db.sql<{ subject: string; text: string }[]>`select subject, text from email_deliveries where recipient = ${`${userId}@example.test`} and template = 'data-export-ready'`;
  expect(mails).toHaveLength(1);
  expect(mails[0]?.subject).toBe("Tu exportación de datos de Ringlet está lista");
  expect(mails[0]?.text).toContain("https://files.test/export.zip?sig=1");
  expect(await db.sql`select 1 from audit_log where action = 'privacy.export-ready' and target_id = ${userId}`).toHaveLength(1);
});

it("expires ready exports past their time, keeping one whose archive could not be deleted for the next run", async () => {
  const userId = await user();
  const past = new Date(Date.now() - 1000).toISOString();
  const [kept, gone] = [uuidv7(), uuidv7()];
  for (const id of [kept, gone]) {
    await db.sql`insert into data_exports (id, user_id, status, progress, blob_name, requested_at, completed_at, expires_at)
      values (${id}, ${userId}, 'ready', '{"step":"done","stepsDone":12,"stepsTotal":12}', ${`privacy-exports/${userId}/${id}.zip`}, ${past}::timestamptz, ${past}::timestamptz, ${past}::timestamptz)`;
  }
  const deleted: string[] = [];
  const expired = await expireDataExports(db.db, new Date(), async (blobName) => {
    if (blobName.includes(kept)) throw new Error("storage unavailable");
    deleted.push(blobName);
  }).catch((err: unknown) => err);
  // The failure surfaces (the timer logs it); what was done before it stays done.
  expect(expired).toBeInstanceOf(Error);
  const statuses = await db.sql<{ id: string; status: string; blob_name: string | null }[]>`select id, status, blob_name from data_exports where user_id = ${userId}`;
  expect(statuses.find((s) => s.id === kept)).toMatchObject({ status: "ready" });
  expect(await expireDataExports(db.db, new Date(), async (blobName) => void deleted.push(blobName))).toBeGreaterThan(0);
  expect((await db.sql<{ status: string }[]>`select distinct status from data_exports where user_id = ${userId}`).map((r) => r.status)).toEqual(["expired"]);
  expect(deleted).toEqual(expect.arrayContaining([`privacy-exports/${userId}/${kept}.zip`, `privacy-exports/${userId}/${gone}.zip`]));
});

it("shows a ready export past its expiry as expired, without its archive", () => {
  const now = new Date();
  const view = viewOf(
    { id: "e", userId: "u", status: "ready", progress: { step: "done", stepsDone: 12, stepsTotal: 12 }, blobName: "privacy-exports/u/e.zip", error: null, requestedAt: now, startedAt: now, completedAt: now, expiresAt: now },
    now,
  );
  expect(view).toMatchObject({ status: "expired", blobName: null, progress: { percent: 100 } });
});
