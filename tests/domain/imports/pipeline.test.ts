import { Readable } from "node:stream";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { applyBatch } from "../../../domain/imports/apply-batch.js";
import { expireImports } from "../../../domain/imports/expire-imports.js";
import type { RowPart } from "../../../domain/imports/import-kind.js";
import { beginImportRun, importStaged, stageImport } from "../../../domain/imports/import-lifecycle.js";
import { importReportPage } from "../../../domain/imports/import-view.js";
import { ImportFileRefused, stagePart } from "../../../domain/imports/stage-import.js";
import type { CatalogEvent } from "../../../domain/events/catalog.js";
import { notificationsForEvent } from "../../../domain/notifications/notifications-for-event.js";
import { erasePersonalData } from "../../../domain/privacy/erasure.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase, testErasureKeys } from "../../support/domain-database.js";
import { insertUser, recordingDeletions } from "../../support/privacy-fixtures.js";

// The pipeline's pieces against a real PostgreSQL, with a part of the test's own: staging (lines, duplicates, bad
// cells, header checks, a clean restart), a batch applied once however often it is retried, the paged report,
// retention and erasure of staged rows.

let db: TestDatabase;
let ctx: DomainContext;
beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

interface Thing {
  code: string;
  label: string;
}

/** Lines the part was asked to apply, in order: a second application of a line would show here. */
const appliedLines: number[] = [];

const thingsPart: RowPart<Thing> = {
  file: "things",
  entity: "thing",
  requiredColumns: ["code", "label"],
  optionalColumns: ["note"],
  schema: z.object({ code: z.string().min(1, { error: "code is required" }), label: z.string().min(1, { error: "label is required" }) }),
  key: (row) => row.code.toLowerCase(),
  async apply(_ctx, _run, rows) {
    appliedLines.push(...rows.map((r) => r.line));
    return rows.map((r) => (r.row.label === "fails" ? { result: "failed", entity: "thing", reason: "label says so" } : { result: "created", entity: "thing" }));
  },
};

const open = (text: string | Buffer) => async () => Readable.from([typeof text === "string" ? Buffer.from(text) : text]);
const limits = { maxLineBytes: 1024, maxRows: 100, insertBatch: 2 };

async function newImport(userId: string, status = "staging"): Promise<string> {
  const id = uuidv7();
  await db.sql`insert into imports (id, created_by_user_id, kind, run, status, blob_name, file_name, content_type, declared_size, created_at)
    values (${id}, ${userId}, 'users', 1, ${status}, ${`imports/${id}/upload.csv`}, 'things.csv', 'text/csv', 10, now())`;
  return id;
}

const stagedRows = (importId: string) =>
  db.sql<{ line: number; key: string | null; outcome: { result: string; reason?: string } | null }[]>`
    select line, key, outcome from import_rows where import_id = ${importId} order by line`;

describe("staging", () => {
  it("numbers rows by the line they end on, and fails duplicates, bad cells, NUL and extra cells at once", async () => {
    const importId = await newImport(await insertUser(db));
    const csv = ["CODE,Label,Colour", "a1,First,red", 'b2,"two', 'lines",', "A1,Again,", ",No code,", "c3,Nul\u0000,", "d4,Four,,extra", "e5,Five,,", ""].join("\n");
    const staged = await stagePart(db.db, importId, 1, thingsPart as RowPart<unknown>, open(csv), limits);
    expect(staged).toMatchObject({ rowsRead: 7, rowsFailed: 4, warnings: ["things: unknown column ignored: colour."] });
    expect((await stagedRows(importId)).map((r) => [r.line, r.outcome?.reason ?? null])).toEqual([
      [2, null],
      [4, null],
      [5, "duplicate of line 2"],
      [6, "code is required"],
      [7, "label holds a NUL character"],
      [8, "the line has 4 cells; the header has 3"],
      [9, null],
    ]);
    // Staged again (a retried or resumed stage step): the same rows, not twice as many.
    await stagePart(db.db, importId, 1, thingsPart as RowPart<unknown>, open(csv), limits);
    expect(await stagedRows(importId)).toHaveLength(7);
  });

  it("reads a UTF-8 file with a BOM and one stray Latin-1 byte as Windows-1252, without the BOM in the header", async () => {
    const importId = await newImport(await insertUser(db));
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("code,label\na1,Caf"), Buffer.from([0xe9]), Buffer.from("\n")]);
    const staged = await stagePart(db.db, importId, 1, thingsPart as RowPart<unknown>, open(bytes), limits);
    expect(staged.rowsFailed).toBe(0);
    expect(staged.warnings).toEqual([expect.stringMatching(/not UTF-8; it was read as Windows-1252/)]);
    const [row] = await db.sql<{ data: Thing }[]>`select data from import_rows where import_id = ${importId}`;
    expect(row?.data).toEqual({ code: "a1", label: "Café" });
  });

  it("a replayed stage step after the run moved on to applying keeps the rows and their outcomes, and goes on", async () => {
    // The begin step asks again whether the importer may run it: a users import is an administrator's.
    const notAdmin = await newImport(await insertUser(db), "queued");
    expect(await inTransactionOf(db, ctx)((tx) => beginImportRun(tx, notAdmin, 1))).toEqual({ phase: "none" });
    expect((await db.sql`select status, refusal_reason from imports where id = ${notAdmin}`)[0]).toEqual({ status: "failed", refusal_reason: "Only administrators import without a course." });

    const admin = await insertUser(db);
    await db.sql`update users set is_admin = true where id = ${admin}`;
    const importId = await newImport(admin, "queued");
    const csv = ["code,label", "a,One", "b,Two"].join("\n");
    expect(await inTransactionOf(db, ctx)((tx) => beginImportRun(tx, importId, 1))).toMatchObject({ phase: "stage" });
    const stageLimits = { maxLineBytes: 1024, maxRows: 100 };
    expect(await stageImport(db.db, importId, 1, [thingsPart as RowPart<unknown>], open(csv), stageLimits, () => new Date())).toEqual({ kind: "applying" });
    const settings = { appUrl: "http://localhost", invitationTtlHours: 1 };
    await inTransactionOf(db, ctx)((tx) => applyBatch(tx, thingsPart as RowPart<unknown>, { importId, run: 1, afterLine: 0, batchSize: 1 }, settings));
    // The runtime died after importStaged committed, before Durable recorded the step: the step runs again.
    expect(await stageImport(db.db, importId, 1, [thingsPart as RowPart<unknown>], open(csv), stageLimits, () => new Date())).toEqual({ kind: "applying" });
    expect(await importStaged(db.db, importId, 1, [{ file: "things", rowsRead: 2, rowsFailed: 0, warnings: [], entity: "thing" }], new Date())).toBe(true);
    expect((await stagedRows(importId)).map((r) => [r.line, r.outcome?.result ?? null])).toEqual([
      [2, "created"],
      [3, null],
    ]);
    expect((await db.sql`select status, rows_applied from imports where id = ${importId}`)[0]).toEqual({ status: "applying", rows_applied: 1 });
    // Another run's replay stops.
    expect(await stageImport(db.db, importId, 2, [thingsPart as RowPart<unknown>], open(csv), stageLimits, () => new Date())).toEqual({ kind: "stopped" });
  });

  it("refuses a header without the required columns, naming each, and a header naming a column twice", async () => {
    const importId = await newImport(await insertUser(db));
    const refusal = (csv: string) => stagePart(db.db, importId, 1, thingsPart as RowPart<unknown>, open(csv), limits).then(() => "", (e: unknown) => (e instanceof ImportFileRefused ? e.reason : String(e)));
    expect(await refusal("name,note\nx,y\n")).toMatch(/lacks the required columns code, label/);
    expect(await refusal("code,label,code\nx,y,z\n")).toMatch(/column code appears twice/);
    expect(await refusal(`code,label\nx,${"y".repeat(2000)}\n`)).toMatch(/line 2 is longer than 1 KB/);
    const many = ["code,label", ...Array.from({ length: 101 }, (_, i) => `c${i},L`)].join("\n");
    expect(await refusal(many)).toMatch(/more than 100 rows/);
  });
});

describe("batches", () => {
  it("applies a batch once: a retry after it committed finds its rows done and applies nothing", async () => {
    const importId = await newImport(await insertUser(db));
    const csv = ["code,label", "a,One", "b,fails", "c,Three", "d,Four", "e,Five"].join("\n");
    const staged = await stagePart(db.db, importId, 1, thingsPart as RowPart<unknown>, open(csv), limits);
    expect(await importStaged(db.db, importId, 1, [{ ...staged, entity: "thing" }], new Date())).toBe(true);
    appliedLines.length = 0;
    const settings = { appUrl: "http://localhost", invitationTtlHours: 1 };
    const batch = (afterLine: number) => inTransactionOf(db, ctx)((tx) => applyBatch(tx, thingsPart as RowPart<unknown>, { importId, run: 1, afterLine, batchSize: 2 }, settings));

    expect(await batch(0)).toEqual({ kind: "applied", lastLine: 3 });
    expect(await batch(0)).toEqual({ kind: "applied", lastLine: 3 });
    expect(await batch(3)).toEqual({ kind: "applied", lastLine: 5 });
    expect(await batch(5)).toEqual({ kind: "applied", lastLine: 6 });
    expect(await batch(6)).toEqual({ kind: "part-done" });
    expect(appliedLines).toEqual([2, 3, 4, 5, 6]);
    const [row] = await db.sql`select rows_read, rows_applied, rows_failed, entity_counts from imports where id = ${importId}`;
    expect(row).toEqual({ rows_read: 5, rows_applied: 4, rows_failed: 1, entity_counts: { thing: { created: 4, updated: 0, unchanged: 0, failed: 1, skipped: 0 } } });

    // A run that is not the import's current one, or one asked to stop, applies nothing.
    expect(await inTransactionOf(db, ctx)((tx) => applyBatch(tx, thingsPart as RowPart<unknown>, { importId, run: 2, afterLine: 0, batchSize: 2 }, settings))).toEqual({ kind: "stopped", reason: "superseded" });
    await db.sql`update imports set cancel_requested_at = now() where id = ${importId}`;
    expect(await batch(0)).toEqual({ kind: "stopped", reason: "cancelled" });
  });

  it("ends a run cancelled before its file was read as cancelled, with its event", async () => {
    const importId = await newImport(await insertUser(db), "queued");
    await db.sql`update imports set cancel_requested_at = now() where id = ${importId}`;
    expect(await inTransactionOf(db, ctx)((tx) => beginImportRun(tx, importId, 1))).toEqual({ phase: "none" });
    expect((await db.sql`select status from imports where id = ${importId}`)[0]).toEqual({ status: "cancelled" });
    expect(await db.sql`select data->>'status' as status from outbox where aggregate_id = ${importId}`).toEqual([{ status: "cancelled" }]);
  });
});

describe("the report", () => {
  it("comes in pages by (file, line), failed rows by default and every row with rows=all", async () => {
    const importId = await newImport(await insertUser(db));
    const csv = ["code,label", ...Array.from({ length: 9 }, (_, i) => `k${i},${i % 3 === 0 ? "fails" : "ok"}`)].join("\n");
    await stagePart(db.db, importId, 1, thingsPart as RowPart<unknown>, open(csv), limits);
    await importStaged(db.db, importId, 1, [{ file: "things", rowsRead: 9, rowsFailed: 0, warnings: [], entity: "thing" }], new Date());
    const settings = { appUrl: "http://localhost", invitationTtlHours: 1 };
    await inTransactionOf(db, ctx)((tx) => applyBatch(tx, thingsPart as RowPart<unknown>, { importId, run: 1, afterLine: 0, batchSize: 100 }, settings));

    const failed = await importReportPage(db.db, importId, { all: false, columns: ["code", "label"], after: null });
    expect(failed.csv.split("\r\n").filter(Boolean)).toEqual([
      "file,line,entity,result,reason,code,label",
      "things,2,thing,failed,label says so,k0,fails",
      "things,5,thing,failed,label says so,k3,fails",
      "things,8,thing,failed,label says so,k6,fails",
    ]);
    const first = await importReportPage(db.db, importId, { all: true, columns: ["code"], after: null, limit: 5 });
    expect(first.csv.split("\r\n").filter(Boolean)).toHaveLength(6);
    expect(first.next).toEqual({ file: "things", line: 6 });
    const second = await importReportPage(db.db, importId, { all: true, columns: ["code"], after: first.next, limit: 5 });
    expect(second.csv.split("\r\n").filter(Boolean).slice(1).map((l) => l.split(",")[1])).toEqual(["7", "8", "9", "10"]);
    expect(second.next).toBeNull();
  });
});

describe("retention and erasure", () => {
  it("drops an old import's file and rows, leaving running imports alone", async () => {
    const userId = await insertUser(db);
    const old = await newImport(userId);
    const running = await newImport(userId, "applying");
    await db.sql`update imports set created_at = now() - interval '40 days' where id = ${running}`;
    await stagePart(db.db, old, 1, thingsPart as RowPart<unknown>, open("code,label\na,b\n"), limits);
    // One being started again at this moment (its row locked by the start) is left for the next run.
    const held = await newImport(userId);
    await stagePart(db.db, held, 1, thingsPart as RowPart<unknown>, open("code,label\na,b\n"), limits);
    await db.sql`update imports set status = 'completed', created_at = now() - interval '40 days' where id in (${old}, ${held})`;
    const { removed, files } = recordingDeletions();
    await db.sql.begin(async (tx) => {
      await tx`select id from imports where id = ${held} for update`;
      expect(await expireImports(db.db, new Date(), 30, files)).toBe(1);
    });
    expect(removed).toEqual([`imports/${old}/upload.csv`]);
    expect(await stagedRows(old)).toHaveLength(0);
    expect(await stagedRows(held)).toHaveLength(1);
    expect(await db.sql`select id, blob_name is null as gone from imports where id in (${old}, ${running}) order by id`).toEqual(
      [
        { id: old, gone: true },
        { id: running, gone: false },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
  });

  it("deletes the staged rows naming an erased user's address", async () => {
    const erased = await insertUser(db);
    const importId = await newImport(await insertUser(db));
    const email = `${erased}@example.test`;
    // Staged as a kind naming people stages them: the valid row, a refused one (its cell as written), another person.
    const peoplePart = { ...thingsPart, file: "people", requiredColumns: ["email", "name"], optionalColumns: [], schema: z.object({ email: z.email(), name: z.string() }), key: (r: { email: string }) => r.email.toLowerCase() } as unknown as RowPart<unknown>;
    await stagePart(db.db, importId, 1, peoplePart, open(`email,name\n${email},Ada\n${email.toUpperCase()},Ada\nsomeone@example.test,Other\n`), limits);
    expect(await db.sql`select line, email, outcome is not null as refused from import_rows where import_id = ${importId} order by line`).toEqual([
      { line: 2, email, refused: false },
      { line: 3, email, refused: true },
      { line: 4, email: "someone@example.test", refused: false },
    ]);
    await inTransactionOf(db, ctx)((tx) => erasePersonalData(tx, erased, testErasureKeys));
    expect((await stagedRows(importId)).map((r) => r.line)).toEqual([4]);
  });
});

describe("the summary email", () => {
  it("tells the importer in their language, with the counts per entity and the report's link; a trial says so", async () => {
    const importer = await insertUser(db);
    const importId = await newImport(importer, "completed");
    const data = {
      importId,
      importerUserId: importer,
      courseId: null,
      kind: "users",
      dryRun: true,
      status: "completed" as const,
      rowsRead: 5,
      rowsApplied: 4,
      rowsFailed: 1,
      rowsSkipped: 0,
      counts: { user: { created: 3, updated: 1, unchanged: 0, failed: 1, skipped: 0 } },
      finishedAt: new Date().toISOString(),
    };
    const event = { id: uuidv7(), type: "import.completed", occurredAt: data.finishedAt, actor: null, data, traceparent: null } as CatalogEvent;
    const links = { fileDownloadUrl: async () => "", unsubscribeUrl: async () => "" };
    const [notice] = await inTransactionOf(db, ctx)((tx) => notificationsForEvent(tx.db, event, "https://app.example", links));
    const mail = notice?.email;
    expect(mail?.to).toBe(`${importer}@example.test`);
    expect(mail?.subject).toBe("Tu importación de prueba (sin cambios) de users ha terminado: 4 filas aplicadas, 1 con errores");
    expect(mail?.text).toContain("user: 3 creados, 1 actualizados, 0 sin cambios, 1 con errores, 0 omitidos.");
    // No button promising a click-through download of a route that needs a Bearer token: the text says how.
    expect(mail?.text).toContain(`con tu token de acceso (Authorization: Bearer): GET https://app.example/api/v1/imports/${importId}/report.csv`);
    expect(mail?.html).not.toMatch(/href="[^"]*report\.csv/);
  });
});
