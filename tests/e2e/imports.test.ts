import { BlockBlobClient } from "@azure/storage-blob";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, createCourse, signUp, type TestUser, uniqueEmail } from "../support/identity.js";
import { type ImportBody, importEnded, importStatus, requestImport, startImport } from "../support/imports.js";
import { waitForMail } from "../support/mailbox.js";
import { waitFor } from "../support/wait-for.js";

// The import pipeline over HTTP, Blob Storage (Azurite), the bulk-imports queue and the orchestration: a users file
// previewed, applied and applied again; its report; cancel between batches; files refused with a reason; who may
// import what; the import.completed event through the bus to the importer's summary email.

const MAX_ROWS = 3_000;
let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;

beforeAll(async () => {
  ({ db, app } = await startAppOnOwnDatabase({ IMPORT_MAX_ROWS: String(MAX_ROWS), IMPORT_BATCH_SIZE: "40", IMPORT_RESEND_SCHEDULE: "*/2 * * * * *" }));
  admin = await signUp(app, db, { admin: true, label: "admin" });
});
afterAll(() => stopAppAndDatabase({ db, app }));

/** Asks for an upload URL and uploads the bytes with the Blob SDK, as a client would. Answers the import's id. */
async function upload(bytes: Buffer, options: { token?: string; contentType?: string; courseId?: string } = {}): Promise<string> {
  const contentType = options.contentType ?? "text/csv";
  const created = await requestImport(app, options.token ?? admin.accessToken, { fileName: "people.csv", contentType, sizeBytes: bytes.length, ...(options.courseId ? { courseId: options.courseId } : {}) });
  expect(created.status).toBe("awaiting-upload");
  await new BlockBlobClient(created.upload.url).upload(bytes, bytes.length, { blobHTTPHeaders: { blobContentType: contentType } });
  return created.id;
}

const csvBytes = (lines: string[]) => Buffer.from(lines.join("\r\n") + "\r\n", "utf8");

const start = (id: string, dryRun = false, kind = "users", token = admin.accessToken) => startImport(app, token, id, kind, dryRun);
const status = (id: string, token = admin.accessToken) => importStatus(app, token, id);
const ended = (id: string) => importEnded(app, admin.accessToken, id);

async function run(id: string, dryRun = false): Promise<ImportBody> {
  const res = await start(id, dryRun);
  expect(res.status, await res.clone().text()).toBe(202);
  expect(((await res.json()) as ImportBody).status).toBe("queued");
  return ended(id);
}

async function report(id: string, rows: "failed" | "all" = "failed"): Promise<{ text: string; records: Record<string, string>[] }> {
  const res = await call(app, "GET", `/v1/imports/${id}/report.csv?rows=${rows}`, { token: admin.accessToken });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
  const text = await res.text();
  return { text, records: parse(text, { columns: true }) as Record<string, string>[] };
}

const userCount = async () => (await db.sql<{ n: number }[]>`select count(*)::int as n from users`)[0]?.n ?? 0;

describe("a users file", () => {
  it("is previewed without writing, applied, reported, and changes nothing the second time; the importer gets the summary and the event goes out", async () => {
    const people = [uniqueEmail("ada"), uniqueEmail("grace"), uniqueEmail("alan")];
    const lines = [
      "Email,Name,Locale,Shoe Size",
      `${people[0]},Ada Lovelace,en,38`,
      `${people[1]},Grace Hopper,es,`,
      `${people[2]},"Turing, Alan",,`,
      'not-an-address,"=HYPERLINK(""http://evil.example"")",,',
      `${people[1]?.toUpperCase()},Grace Again,,`,
      `${uniqueEmail("nul")},Nul\u0000Byte,,`,
    ];
    const id = await upload(csvBytes(lines));
    const before = await userCount();

    const preview = await run(id, true);
    expect(preview).toMatchObject({ status: "completed", dryRun: true, rowsRead: 6, rowsApplied: 3, rowsFailed: 3, percent: 100 });
    expect(preview.counts.user).toMatchObject({ created: 3, updated: 0, unchanged: 0, failed: 3 });
    expect(preview.warnings.join(" ")).toMatch(/unknown column ignored: shoe size/);
    expect(await userCount()).toBe(before);

    // The same upload, now for real (a completed dry run may be started again).
    const real = await run(id, false);
    expect(real).toMatchObject({ status: "completed", dryRun: false, rowsRead: 6, rowsApplied: 3, rowsFailed: 3 });
    expect(real.counts.user).toMatchObject({ created: 3, failed: 3 });
    expect(await userCount()).toBe(before + 3);
    const names = await db.sql<{ display_name: string }[]>`select display_name from users where email = any(${people}) order by display_name`;
    expect(names.map((n) => n.display_name)).toEqual(["Ada Lovelace", "Grace Hopper", "Turing, Alan"]);
    expect((await start(id)).status).toBe(409);

    const { text, records } = await report(id);
    expect(records.map((r) => [r.line, r.result])).toEqual([
      ["5", "failed"],
      ["6", "failed"],
      ["7", "failed"],
    ]);
    expect(records[0]?.reason).toBe("email is not an address");
    expect(records[1]?.reason).toBe("duplicate of line 3");
    expect(records[2]?.reason).toMatch(/NUL/);
    // The formula is neutralised in the report (a leading apostrophe), never sent as a live formula.
    expect(records[0]?.name).toBe("'=HYPERLINK(\"http://evil.example\")");
    expect(text).not.toMatch(/(^|,)=HYPERLINK/m);
    const all = await report(id, "all");
    expect(all.records).toHaveLength(6);
    expect(all.records.filter((r) => r.result === "created")).toHaveLength(3);

    // The summary email (through import.completed on the bus and the emails subscription).
    await waitForMail(app, admin.email, "Your trial (dry run) users import completed: 3 rows applied, 3 failed");
    const mail = await waitForMail(app, admin.email, "Your users import completed: 3 rows applied, 3 failed");
    expect(mail.text).toMatch(/6 rows read, 3 were applied, 3 failed/);
    const [event] = await db.sql<{ published_at: Date | null; data: { importId: string } }[]>`
      select published_at, data from outbox where type = 'import.completed' and aggregate_id = ${id} and data->>'dryRun' = 'false'`;
    expect(event?.data.importId).toBe(id);
    expect(event?.published_at).not.toBeNull();

    const again = await run(await upload(csvBytes(lines)), false);
    expect(again.counts.user).toMatchObject({ created: 0, updated: 0, unchanged: 3, failed: 3 });
    expect(await userCount()).toBe(before + 3);
  });

  it("reads a UTF-8 file with a BOM, and a Latin-1 file with a warning", async () => {
    const bom = uniqueEmail("bom");
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), csvBytes(["email,name", `${bom},Zoë Bom`])]);
    expect(await run(await upload(withBom))).toMatchObject({ status: "completed", rowsApplied: 1, warnings: [] });
    expect((await db.sql`select display_name from users where email = ${bom}`)[0]).toEqual({ display_name: "Zoë Bom" });

    const latin = uniqueEmail("latin");
    const latin1 = Buffer.from(`email,name\r\n${latin},José Müller\r\n`, "latin1");
    const read = await run(await upload(latin1));
    expect(read).toMatchObject({ status: "completed", rowsApplied: 1 });
    expect(read.warnings.join(" ")).toMatch(/not UTF-8.*Windows-1252/);
    expect((await db.sql`select display_name from users where email = ${latin}`)[0]).toEqual({ display_name: "José Müller" });
  });

  it("stops between batches when cancelled; the rows applied are exactly the ones the report says", async () => {
    const rows = Array.from({ length: 2_000 }, (_, i) => `cancel-${i}-${uniqueEmail("c")},Person ${i}`);
    const id = await upload(csvBytes(["email,name", ...rows]));
    expect((await start(id)).status).toBe(202);
    const running = await waitFor("the first batches applied", async () => {
      const s = await status(id);
      return s.rowsApplied > 0 ? s : undefined;
    }, { timeoutMs: 20_000, stepMs: 50 });
    // Progress while it runs: every row read, a share done, and the time left at the rate so far.
    expect(running).toMatchObject({ rowsRead: 2_000, currentPart: "users" });
    expect(running.percent).toBeLessThan(100);
    expect(running.etaSeconds).toEqual(expect.any(Number));
    const cancel = await call(app, "POST", `/v1/imports/${id}/cancel`, { token: admin.accessToken });
    expect(cancel.status).toBe(202);
    const done = await ended(id);
    expect(done.status).toBe("cancelled");
    expect(done.rowsApplied).toBeGreaterThan(0);
    expect(done.rowsApplied).toBeLessThan(2_000);
    const { records } = await report(id, "all");
    const created = records.filter((r) => r.result === "created");
    expect(created).toHaveLength(done.rowsApplied);
    expect(records.filter((r) => r.result === "not-applied")).toHaveLength(2_000 - done.rowsApplied);
    const [imported] = await db.sql<{ n: number }[]>`select count(*)::int as n from users where email like 'cancel-%'`;
    expect(imported?.n).toBe(done.rowsApplied);
    expect((await call(app, "POST", `/v1/imports/${id}/cancel`, { token: admin.accessToken })).status).toBe(409);

    // Started again, it goes on from the rows' outcomes: the rest are applied, none twice.
    expect((await start(id, true)).status).toBe(409);
    const resumed = await run(id, false);
    expect(resumed).toMatchObject({ status: "completed", rowsRead: 2_000, rowsApplied: 2_000, rowsFailed: 0 });
    expect(resumed.counts.user).toMatchObject({ created: 2_000, unchanged: 0 });
    const [after] = await db.sql<{ n: number }[]>`select count(*)::int as n from users where email like 'cancel-%'`;
    expect(after?.n).toBe(2_000);
  });

  it("answers a tampered cursor with 400 INVALID_CURSOR", async () => {
    const cursor = (position: unknown) => Buffer.from(JSON.stringify(position)).toString("base64url");
    const id = (await (await call(app, "GET", "/v1/imports?limit=1", { token: admin.accessToken })).json() as { items: { id: string }[] }).items[0]?.id ?? "";
    for (const [path, position] of [
      [`/v1/imports/${id}/report.csv`, ["users", 1.5]],
      [`/v1/imports/${id}/report.csv`, [7, 1]],
      ["/v1/imports", ["nope"]],
    ] as const) {
      const res = await call(app, "GET", `${path}?cursor=${cursor(position)}`, { token: admin.accessToken });
      expect(res.status, path).toBe(400);
      expect((await jsonOf(res)).code).toBe("INVALID_CURSOR");
    }
  });
});

describe("a sections file", () => {
  it("creates a course's sections by name and capacity", async () => {
    const course = await createCourse(db);
    const id = await upload(csvBytes(["course,name,capacity", `${course},Morning,30`, `${course},Evening,`, `${course},Morning,40`]));
    const res = await start(id, false, "sections");
    expect(res.status, await res.clone().text()).toBe(202);
    expect(await ended(id)).toMatchObject({ status: "completed", kind: "sections", rowsRead: 3, rowsApplied: 2, rowsFailed: 1 });
    expect(await db.sql`select name, capacity from sections where course_id = ${course} order by name`).toEqual([
      { name: "Evening", capacity: null },
      { name: "Morning", capacity: 30 },
    ]);
  });
});

describe("a run whose message never reached the queue", () => {
  it("is sent again by the imports-resend timer and runs", async () => {
    const email = uniqueEmail("resent");
    const id = await upload(csvBytes(["email,name", `${email},Sent Again`]));
    // As if the start committed and the send after the commit failed: queued, a run number, no message.
    await db.sql`update imports set status = 'queued', kind = 'users', run = 1, started_at = now() - interval '2 minutes' where id = ${id}`;
    expect(await ended(id)).toMatchObject({ status: "completed", rowsApplied: 1 });
    expect(await db.sql`select display_name from users where email = ${email}`).toEqual([{ display_name: "Sent Again" }]);
  });

  it("is started again by the timer when it is staging with no orchestration running it", async () => {
    const email = uniqueEmail("orphan");
    const id = await upload(csvBytes(["email,name", `${email},Orphan Run`]));
    // As if the runtime died mid-step and the orchestration ended (or was lost) while the import was staging.
    await db.sql`update imports set status = 'staging', kind = 'users', run = 1, started_at = now() - interval '2 minutes' where id = ${id}`;
    expect(await ended(id)).toMatchObject({ status: "completed", rowsApplied: 1 });
    expect(await db.sql`select display_name from users where email = ${email}`).toEqual([{ display_name: "Orphan Run" }]);
  });
});

describe("bad files", () => {
  const refused = async (bytes: Buffer) => {
    const before = await userCount();
    const body = await run(await upload(bytes));
    expect(body.status).toBe("failed");
    expect(body.rowsApplied).toBe(0);
    expect(await userCount()).toBe(before);
    return body.refusalReason ?? "";
  };

  // Seven runs, each an orchestration, then their emails: on a loaded CI machine (four workers beside the browser
  // tests) one after another they took over the default 30 s, so they run side by side and the test has 90 s.
  it("refuses a file before applying any row, naming the problem", { timeout: 90_000 }, async () => {
    const many = Array.from({ length: MAX_ROWS + 1 }, (_, i) => `many-${i}@example.test,Many ${i}`);
    const cases: [Buffer, RegExp][] = [
      [csvBytes(["email,fullname,locale", `${uniqueEmail()},Nobody,en`]), /lacks the required column name\b/],
      [csvBytes(["mail,fullname", `${uniqueEmail()},Nobody`]), /required columns email, name/],
      [Buffer.from("\r\n\r\n"), /the file is empty/],
      [csvBytes(["email,name"]), /header but no rows/],
      [csvBytes(["email,name", `${uniqueEmail()},${"x".repeat(5 * 1024 * 1024)}`]), /line 2 is longer than 1 MB/],
      [csvBytes(["email,name", ...many]), new RegExp(`more than ${MAX_ROWS} rows`)],
      [csvBytes(["email,name", `${uniqueEmail()},"unclosed`]), /not valid CSV/],
    ];
    const reasons = await Promise.all(cases.map(([bytes]) => refused(bytes)));
    cases.forEach(([, reason], i) => expect(reasons[i]).toMatch(reason));
    // The importer is told (seven emails, queued behind each other's events).
    await waitForMail(app, admin.email, "Your users import failed", { timeoutMs: 60_000 });
  });

  it("answers a clear problem for an upload that is missing, of another size or type, or empty", async () => {
    const empty = await call(app, "POST", "/v1/imports", { token: admin.accessToken, body: { fileName: "e.csv", contentType: "text/csv", sizeBytes: 0 } });
    expect(empty.status).toBe(400);
    const tooBig = await call(app, "POST", "/v1/imports", { token: admin.accessToken, body: { fileName: "e.csv", contentType: "text/csv", sizeBytes: 101 * 1024 * 1024 } });
    expect((await jsonOf(tooBig)).code).toBe("IMPORT_TOO_LARGE");

    const declared = await call(app, "POST", "/v1/imports", { token: admin.accessToken, body: { fileName: "a.csv", contentType: "text/csv", sizeBytes: 100 } });
    const grant = (await declared.json()) as { id: string; upload: { url: string } };
    expect((await jsonOf(await start(grant.id))).code).toBe("IMPORT_FILE_NOT_UPLOADED");
    await new BlockBlobClient(grant.upload.url).upload(Buffer.from("email,name\r\n"), 12, { blobHTTPHeaders: { blobContentType: "text/csv" } });
    expect((await jsonOf(await start(grant.id))).code).toBe("IMPORT_FILE_MISMATCH");
    // The wrong upload is deleted and the import failed with the reason (the create-only URL could not replace it).
    expect(await status(grant.id)).toMatchObject({ status: "failed", refusalReason: expect.stringMatching(/12 bytes; 100 were declared.*new upload URL/) });
    expect(await db.sql`select blob_name from imports where id = ${grant.id}`).toEqual([{ blob_name: null }]);
    const mismatchAgain = await start(grant.id);
    expect(mismatchAgain.status).toBe(409);

    const zip = await upload(Buffer.from("PK\u0003\u0004"), { contentType: "application/zip" });
    const wrongType = await start(zip);
    expect(wrongType.status).toBe(422);
    expect((await jsonOf(wrongType)).code).toBe("IMPORT_WRONG_FILE_TYPE");
    expect((await status(zip)).status).toBe("awaiting-upload");
  });
});

describe("who may import", () => {
  it("lets administrators import users and instructors only their own course's roster", async () => {
    const learner = await signUp(app, db, { label: "learner" });
    const instructor = await signUp(app, db, { label: "instructor" });
    const course = await createCourse(db, [{ userId: instructor.id, role: "instructor" }]);
    const otherCourse = await createCourse(db);

    const asLearner = await call(app, "POST", "/v1/imports", { token: learner.accessToken, body: { fileName: "a.csv", contentType: "text/csv", sizeBytes: 10 } });
    expect(asLearner.status).toBe(403);
    const elsewhere = await call(app, "POST", "/v1/imports", { token: instructor.accessToken, body: { fileName: "a.csv", contentType: "text/csv", sizeBytes: 10, courseId: otherCourse } });
    expect(elsewhere.status).toBe(403);
    expect((await jsonOf(elsewhere)).code).toBe("IMPORT_FORBIDDEN");
    const noCourse = await call(app, "POST", "/v1/imports", { token: instructor.accessToken, body: { fileName: "a.csv", contentType: "text/csv", sizeBytes: 10 } });
    expect((await jsonOf(noCourse)).code).toBe("IMPORT_FORBIDDEN");

    // Their own course: the upload is theirs, but a users import is for administrators.
    const own = await upload(csvBytes(["course,email,role", `${course},${learner.email},learner`]), { token: instructor.accessToken, courseId: course });
    const users = await start(own, false, "users", instructor.accessToken);
    expect(users.status).toBe(403);
    expect((await jsonOf(users)).code).toBe("IMPORT_FORBIDDEN");
    // The course's roster is theirs to import (a dry run: the pipeline runs it for them as for an administrator).
    expect((await start(own, true, "enrollments", instructor.accessToken)).status).toBe(202);
    expect(await ended(own)).toMatchObject({ status: "completed", kind: "enrollments", rowsRead: 1 });
    // Removed from the course after the dry run: the real run is refused (asked again at each start).
    await db.sql`delete from course_staff where course_id = ${course} and user_id = ${instructor.id}`;
    const removed = await start(own, false, "enrollments", instructor.accessToken);
    expect(removed.status).toBe(403);
    expect((await jsonOf(removed)).code).toBe("IMPORT_FORBIDDEN");
    expect((await status(own)).status).toBe("completed");
    await db.sql`insert into course_staff (course_id, user_id, role) values (${course}, ${instructor.id}, 'instructor')`;

    // Only the importer (and administrators) see an import.
    expect((await call(app, "GET", `/v1/imports/${own}`, { token: instructor.accessToken })).status).toBe(200);
    expect((await call(app, "GET", `/v1/imports/${own}`, { token: admin.accessToken })).status).toBe(200);
    expect((await call(app, "GET", `/v1/imports/${own}`, { token: learner.accessToken })).status).toBe(403);
    expect((await call(app, "GET", `/v1/imports/${own}/report.csv`, { token: learner.accessToken })).status).toBe(403);
    const mine = (await (await call(app, "GET", "/v1/imports", { token: instructor.accessToken })).json()) as { items: { id: string }[] };
    expect(mine.items.map((i) => i.id)).toEqual([own]);
    const everyone = (await (await call(app, "GET", "/v1/imports?limit=100", { token: admin.accessToken })).json()) as { items: { id: string }[] };
    expect(everyone.items.map((i) => i.id)).toContain(own);
  });
});
