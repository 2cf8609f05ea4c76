import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningApp, startApp } from "../support/app.js";
import { persistentRuntimeState } from "../support/restartable-services.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { signUp, type TestUser } from "../support/identity.js";
import { importEnded, importStatus, startImport, uploadImport } from "../support/imports.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// A users import whose runtime is killed (SIGKILL: no shutdown, no settling) while its batches are being applied,
// then started again on the same database, Blob Storage, broker data and durable store: the orchestration resumes
// and the import completes with every row applied exactly once.

const ROWS = 1_500;
let db: TestDatabase;
let app: RunningApp;
let runtimeState: Awaited<ReturnType<typeof persistentRuntimeState>>;
let admin: TestUser;

async function startRuntime(): Promise<RunningApp> {
  return startApp({
    env: {
      DATABASE_URL: db.url,
      ...runtimeState.env,
      // Small batches: the kill lands between (or inside) batches, and the run passes the 100 batches after which
      // its orchestration continues as new.
      IMPORT_BATCH_SIZE: "10",
    },
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  runtimeState = await persistentRuntimeState();
  app = await startRuntime();
  admin = await signUp(app, db, { admin: true, label: "admin" });
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
  await runtimeState?.remove();
});

const status = (id: string) => importStatus(app, admin.accessToken, id);

it("resumes an import after the runtime is killed mid-import, applying every row exactly once", async () => {
  const lines = ["email,name", ...Array.from({ length: ROWS }, (_, i) => `resume-${i}@example.test,Resumed ${i}`)];
  const bytes = Buffer.from(lines.join("\n") + "\n");
  const id = await uploadImport(app, admin.accessToken, bytes, { fileName: "resume.csv", contentType: "text/csv" });
  expect((await startImport(app, admin.accessToken, id, "users", false)).status).toBe(202);

  const before = await waitFor("some batches applied", async () => {
    const s = await status(id);
    return s.status === "applying" && s.rowsApplied >= 100 ? s : undefined;
  }, { timeoutMs: 25_000, stepMs: 25, diagnostics: () => recentErrors(app) });
  app.process.kill("SIGKILL");
  await app.stop();
  expect(before.rowsApplied).toBeLessThan(ROWS);

  app = await startRuntime();
  const done = await importEnded(app, admin.accessToken, id, { what: "the import to end after the restart", timeoutMs: 60_000 });

  expect(done).toMatchObject({ status: "completed", rowsRead: ROWS, rowsApplied: ROWS, rowsFailed: 0 });
  expect(done.counts.user).toMatchObject({ created: ROWS, updated: 0, unchanged: 0, failed: 0 });
  const [counts] = await db.sql<{ users: number; rows: number; outcomes: number; invitations: number; audits: number; completed: number }[]>`
    select (select count(*)::int from users where email like 'resume-%') as users,
           (select count(*)::int from import_rows where import_id = ${id}) as rows,
           (select count(*)::int from import_rows where import_id = ${id} and outcome->>'result' = 'created') as outcomes,
           (select count(*)::int from account_tokens where email like 'resume-%') as invitations,
           (select count(*)::int from audit_log where action = 'user.imported') as audits,
           (select count(*)::int from outbox where type = 'import.completed' and aggregate_id = ${id}) as completed`;
  expect(counts).toEqual({ users: ROWS, rows: ROWS, outcomes: ROWS, invitations: ROWS, audits: ROWS, completed: 1 });
});
