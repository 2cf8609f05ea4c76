import { PassThrough } from "node:stream";
import { ZipArchive } from "archiver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { runImport, uploadImport } from "../support/imports.js";
import { fixtureFiles } from "../domain/imports/oneroster-fixture.js";

// A OneRoster 1.2 CSV bundle (tests/fixtures/oneroster, written from the standard's column tables) zipped, uploaded
// and imported over HTTP, Blob Storage, the bulk-imports queue and the orchestration: previewed, applied (courses,
// sections, users, learners in their sections, staff), reported, applied again (nothing changes), changed (followed
// by sourcedId); a zip bomb and a bundle missing users.csv refused.

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;

beforeAll(async () => {
  ({ db, app } = await startAppOnOwnDatabase({ IMPORT_BATCH_SIZE: "4" }));
  admin = await signUp(app, db, { admin: true, label: "registrar" });
});
afterAll(() => stopAppAndDatabase({ db, app }));

type Counts = Record<string, { created: number; updated: number; unchanged: number; failed: number; skipped: number }>;
/** The files zipped at the archive's top level, as a SIS exports them. */
async function zipOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const archive = new ZipArchive({ zlib: { level: 9 } });
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve, reject) => out.on("end", resolve).on("error", reject));
  archive.pipe(out);
  for (const [name, content] of Object.entries(files)) archive.append(content, { name });
  await archive.finalize();
  await done;
  return Buffer.concat(chunks);
}

const upload = (bytes: Buffer) => uploadImport(app, admin.accessToken, bytes, { fileName: "riverside-oneroster.zip", contentType: "application/zip" });
const run = (id: string, dryRun: boolean) => runImport(app, admin.accessToken, id, "oneroster", dryRun, { timeoutMs: 40_000 });

const tables = async () =>
  (
    await db.sql<{ courses: number; sections: number; users: number; staff: number; enrollments: number; sources: number }[]>`
      select (select count(*)::int from courses) as courses, (select count(*)::int from sections) as sections,
        (select count(*)::int from users) as users, (select count(*)::int from course_staff) as staff,
        (select count(*)::int from enrollments) as enrollments, (select count(*)::int from roster_sources) as sources`
  )[0];

const zeroes = { created: 0, updated: 0, unchanged: 0, failed: 0, skipped: 0 };

describe("a OneRoster 1.2 bundle", () => {
  it("is previewed (everything created, down the chain of files, nothing written), imported, and imported again unchanged", async () => {
    const id = await upload(await zipOf(fixtureFiles()));
    const before = await tables();
    const preview = await run(id, true);
    expect(preview).toMatchObject({ status: "completed", dryRun: true, refusalReason: null });
    const fresh: Counts = {
      org: { ...zeroes, created: 2 },
      "academic-session": { ...zeroes, created: 2 },
      course: { ...zeroes, created: 2 },
      section: { ...zeroes, created: 3 },
      user: { ...zeroes, created: 7, skipped: 1, failed: 1 },
      // the teacher's second class of one course is skipped; the proctor has no course role; usr-s-5 was skipped
      enrollment: { ...zeroes, created: 5, skipped: 1, failed: 1 },
      staff: { ...zeroes, created: 2, skipped: 1 },
    };
    expect(preview.counts).toMatchObject(fresh);
    expect(await tables()).toEqual(before);

    const real = await run(id, false);
    expect(real).toMatchObject({ status: "completed", dryRun: false });
    expect(real.counts).toMatchObject(fresh);
    const after = await tables();
    // staff: the teacher and the teaching assistant, and the registrar who made each course
    expect(after).toMatchObject({ courses: 2, sections: 3, users: (before?.users ?? 0) + 7, sources: 16, enrollments: 5, staff: 4 });
    const report = await (await call(app, "GET", `/v1/imports/${id}/report.csv`, { token: admin.accessToken })).text();
    expect(report).toContain("enrollments.csv,5,enrollment,skipped,role proctor has no Ringlet course role");
    expect(report).toContain("enrollments.csv,11,enrollment,failed,user usr-s-5 was not imported (users.csv line 9)");
    expect(report).toContain("users.csv,10,user,failed,user usr-s-6 has no email");
    expect(await db.sql`select title, code, status from courses order by title`).toEqual([
      { title: "Algebra II", code: null, status: "draft" },
      { title: "Biology I", code: "BIO-101", status: "draft" },
    ]);

    const again = await run(await upload(await zipOf(fixtureFiles())), false);
    expect(again.counts).toMatchObject({
      org: { ...zeroes, unchanged: 2 },
      "academic-session": { ...zeroes, unchanged: 2 },
      course: { ...zeroes, unchanged: 2 },
      section: { ...zeroes, unchanged: 3 },
      user: { ...zeroes, unchanged: 7, skipped: 1, failed: 1 },
      enrollment: { ...zeroes, unchanged: 5, skipped: 1, failed: 1 },
      staff: { ...zeroes, unchanged: 2, skipped: 1 },
    });
    expect(await tables()).toEqual(after);
  });

  it("follows sourcedIds through a changed bundle: the renamed class renames its section, a new user is created", async () => {
    const [section] = await db.sql<{ id: string }[]>`select id from sections where name = 'Biology I - Period 3'`;
    const files = fixtureFiles({
      "classes.csv": (t) => t.replace("Biology I - Period 3", "Biology I - Period 4"),
      "users.csv": (t) => `${t}usr-s-7,,,true,gho,{LDAP:gho},Gia,Ho,,S4007,gho@students.riverside.example,,,,10,,,,,,,org-school-1,\n`,
      "enrollments.csv": (t) => `${t}enr-11,,,cls-bio-1b,org-school-1,usr-s-7,student,,,\n`,
    });
    const changed = await run(await upload(await zipOf(files)), false);
    expect(changed.counts).toMatchObject({
      section: { ...zeroes, unchanged: 2, updated: 1 },
      user: { ...zeroes, unchanged: 7, created: 1, skipped: 1, failed: 1 },
      enrollment: { ...zeroes, unchanged: 5, created: 1, skipped: 1, failed: 1 },
    });
    expect(await db.sql`select count(*)::int as n from enrollments where section_id = ${section?.id as string} and status = 'active'`).toEqual([{ n: 2 }]);
    expect(await db.sql`select name from sections where id = ${section?.id as string}`).toEqual([{ name: "Biology I - Period 4" }]);
    expect(await db.sql`select display_name from users where email = 'gho@students.riverside.example'`).toEqual([{ display_name: "Gia Ho" }]);
  });

  it("refuses a zip bomb and a bundle without users.csv, naming why, and applies nothing", async () => {
    const before = await tables();
    const bomb = await run(await upload(await zipOf({ ...fixtureFiles(), "users.csv": Buffer.alloc(8 * 1024 * 1024, 0x41) })), false);
    expect(bomb).toMatchObject({ status: "failed", refusalReason: "users.csv inflates more than 100 times its compressed size (a zip bomb?)" });

    const { "users.csv": _users, ...withoutUsers } = fixtureFiles();
    const missing = await run(await upload(await zipOf(withoutUsers)), false);
    expect(missing).toMatchObject({ status: "failed", refusalReason: "the bundle has no users.csv (the manifest lists it)" });
    expect(await tables()).toEqual(before);
  });
});
