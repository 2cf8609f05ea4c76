import { ZipArchive } from "archiver";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectJson, type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, createCourse, signUp, type TestUser } from "../support/identity.js";
import { expectProblem } from "../support/problems.js";

// One app for part A of issue 20: banks (course and shared) with access, versioned items, approve/retire, list
// filters, JSON and QTI 3.0 / 2.1 export and import (round trip into a new bank), and hostile or oversized files.

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let instructor: TestUser;
let grader: TestUser;
let otherInstructor: TestUser;
let sharedInstructor: TestUser;
let courseId: string;
let otherCourseId: string;
let sharedCourseId: string;
let bankId: string;

const as = (user: TestUser, body?: unknown, headers?: Record<string, string>) => ({ token: user.accessToken, ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) });

interface BankItemJson {
  id: string;
  version: number;
  status: string;
  origin: string;
  tags: string[];
  difficulty: string | null;
  item: Record<string, unknown> & { id: string };
  key: unknown;
  approvedAt: string | null;
}

/** Every item type and key mode. */
const authored = [
  { item: { type: "single", points: 2, prompt: "Pick <one> & only one", choices: [{ id: "a", text: "Alpha" }, { id: "b", text: "Beta" }] }, key: { type: "single", correct: "b" }, tags: ["algebra", "unit-1"], difficulty: "easy" },
  { item: { type: "multiple", points: 3, prompt: "Pick some", partialCredit: "right-minus-wrong", choices: [{ id: "x", text: "X" }, { id: "y", text: "Y" }, { id: "z", text: "Z" }] }, key: { type: "multiple", correct: ["x", "z"] }, tags: ["algebra"] },
  { item: { type: "multiple", points: 1, prompt: "Per choice", partialCredit: "per-choice", choices: [{ id: "x", text: "X" }, { id: "y", text: "Y" }] }, key: { type: "multiple", correct: ["y"] } },
  { item: { type: "true-false", points: 1, prompt: "True?" }, key: { type: "true-false", correct: true }, tags: ["unit-1"], difficulty: "hard" },
  { item: { type: "numeric", points: 1, prompt: "2+2" }, key: { type: "numeric", mode: "exact", value: 4 } },
  { item: { type: "numeric", points: 1, prompt: "pi" }, key: { type: "numeric", mode: "tolerance", value: 3.14, tolerance: 0.01 } },
  { item: { type: "numeric", points: 1, prompt: "between" }, key: { type: "numeric", mode: "range", min: 1, max: 5 } },
  { item: { type: "short-text", points: 1, prompt: "Capital" }, key: { type: "short-text", mode: "normalized", accepted: ["Paris"] } },
  { item: { type: "short-text", points: 1, prompt: "Colour" }, key: { type: "short-text", mode: "pattern", pattern: "^(red|blue)$" } },
  { item: { type: "essay", points: 5, prompt: "Discuss" }, key: null, tags: ["writing"] },
  { item: { type: "file", points: 5, prompt: "Upload" }, key: null },
];

const itemsOf = async (id: string, user: TestUser = instructor, query = ""): Promise<BankItemJson[]> => {
  const res = await call(app, "GET", `/v1/question-banks/${id}/items?limit=100${query}`, as(user));
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { items: BankItemJson[] }).items;
};

/** Items compared across banks: ids are each bank's own. */
const content = (items: BankItemJson[]) => items.map((i) => ({ item: { ...i.item, id: "" }, key: i.key, tags: i.tags, difficulty: i.difficulty }));

async function zipOf(files: { name: string; content: string | Buffer }[], store = false): Promise<Buffer> {
  const archive = new ZipArchive({ zlib: { level: 9 }, store });
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve, reject) => out.on("end", resolve).on("error", reject));
  archive.pipe(out);
  for (const f of files) archive.append(f.content, { name: f.name });
  await archive.finalize();
  await done;
  return Buffer.concat(chunks);
}

const upload = (bank: string, format: string, body: Buffer | string, user: TestUser = instructor) =>
  fetch(`${app.baseUrl}/api/v1/question-banks/${bank}/import?format=${format}`, {
    method: "POST",
    headers: { authorization: `Bearer ${user.accessToken}`, "content-type": format === "json" ? "application/json" : "application/zip" },
    body,
  });

const newBank = async (title: string, course = courseId) => (await expectJson<{ id: string }>(await call(app, "POST", `/v1/courses/${course}/question-banks`, as(instructor, { title })), 201)).id;

beforeAll(async () => {
  ({ db, app } = await startAppOnOwnDatabase());
  [admin, instructor, grader, otherInstructor, sharedInstructor] = await Promise.all([
    signUp(app, db, { label: "admin", admin: true }),
    signUp(app, db, { label: "instructor" }),
    signUp(app, db, { label: "grader" }),
    signUp(app, db, { label: "other-instructor" }),
    signUp(app, db, { label: "shared-instructor" }),
  ]);
  courseId = await createCourse(db, [
    { userId: instructor.id, role: "instructor" },
    { userId: grader.id, role: "grader" },
  ]);
  otherCourseId = await createCourse(db, [{ userId: otherInstructor.id, role: "instructor" }]);
  sharedCourseId = await createCourse(db, [{ userId: sharedInstructor.id, role: "instructor" }]);
}, 120_000);

afterAll(async () => {
  await stopAppAndDatabase({ db, app });
});

describe("question banks", () => {
  it("lets a course's instructors manage its bank, its graders read it, and nobody else see it", async () => {
    const bank = await expectJson<{ id: string; shared: boolean; courseIds: string[]; itemCount: number }>(
      await call(app, "POST", `/v1/courses/${courseId}/question-banks`, as(instructor, { title: "Algebra", description: "Unit 1" })),
      201,
    );
    bankId = bank.id;
    expect(bank).toMatchObject({ shared: false, courseIds: [courseId], itemCount: 0 });
    expect((await call(app, "GET", `/v1/question-banks/${bankId}`, as(grader))).status).toBe(200);
    await expectProblem(await call(app, "PATCH", `/v1/question-banks/${bankId}`, as(grader, { title: "Mine" })), 403, "FORBIDDEN");
    await expectProblem(await call(app, "GET", `/v1/question-banks/${bankId}`, as(otherInstructor)), 403, "FORBIDDEN");
    await expectProblem(await call(app, "POST", `/v1/courses/${courseId}/question-banks`, as(grader, { title: "No" })), 403, "FORBIDDEN");
    const read = await call(app, "GET", `/v1/question-banks/${bankId}`, as(instructor));
    const etag = read.headers.get("etag") as string;
    const changed = await call(app, "PATCH", `/v1/question-banks/${bankId}`, as(instructor, { title: "Algebra I" }, { "if-match": etag }));
    expect(changed.status).toBe(200);
    await expectProblem(await call(app, "PATCH", `/v1/question-banks/${bankId}`, as(instructor, { title: "Stale" }, { "if-match": etag })), 412, "PRECONDITION_FAILED");
    const listed = (await (await call(app, "GET", `/v1/courses/${courseId}/question-banks`, as(grader))).json()) as { items: { id: string; title: string }[] };
    expect(listed.items.map((b) => b.title)).toEqual(["Algebra I"]);
  });

  it("lets administrators share a bank with named courses, whose instructors read it", async () => {
    await expectProblem(await call(app, "POST", "/v1/question-banks", as(instructor, { title: "Shared", courseIds: [courseId] })), 403, "FORBIDDEN");
    const shared = await expectJson<{ id: string; shared: boolean; courseIds: string[] }>(await call(app, "POST", "/v1/question-banks", as(admin, { title: "Shared", courseIds: [sharedCourseId] })), 201);
    expect(shared).toMatchObject({ shared: true, courseIds: [sharedCourseId] });
    await expectJson(await call(app, "POST", `/v1/question-banks/${shared.id}/items`, as(admin, authored[3])), 201);
    expect((await call(app, "GET", `/v1/question-banks/${shared.id}`, as(sharedInstructor))).status).toBe(200);
    expect(await itemsOf(shared.id, sharedInstructor)).toHaveLength(1);
    // Readers, not managers: only administrators change a shared bank.
    await expectProblem(await call(app, "POST", `/v1/question-banks/${shared.id}/items`, as(sharedInstructor, authored[3])), 403, "FORBIDDEN");
    await expectProblem(await call(app, "GET", `/v1/question-banks/${shared.id}`, as(instructor)), 403, "FORBIDDEN");
    const banks = (await (await call(app, "GET", `/v1/courses/${sharedCourseId}/question-banks`, as(sharedInstructor))).json()) as { items: { id: string }[] };
    expect(banks.items.map((b) => b.id)).toEqual([shared.id]);
    // Sharing moves from one course to another: the first course's instructor loses it.
    const moved = await call(app, "PUT", `/v1/question-banks/${shared.id}/courses`, as(admin, { courseIds: [courseId] }));
    expect(((await moved.json()) as { courseIds: string[] }).courseIds).toEqual([courseId]);
    await expectProblem(await call(app, "GET", `/v1/question-banks/${shared.id}`, as(sharedInstructor)), 403, "FORBIDDEN");
    expect((await call(app, "GET", `/v1/question-banks/${shared.id}`, as(instructor))).status).toBe(200);
    // Its graders list it and read it alike.
    const gradersList = (await (await call(app, "GET", `/v1/courses/${courseId}/question-banks`, as(grader))).json()) as { items: { id: string }[] };
    expect(gradersList.items.map((b) => b.id)).toContain(shared.id);
    expect((await call(app, "GET", `/v1/question-banks/${shared.id}`, as(grader))).status).toBe(200);
    expect(await itemsOf(shared.id, grader)).toHaveLength(1);
    // Shared with several courses: the staff of any of them read it (one read of the caller's roles), others do not.
    await call(app, "PUT", `/v1/question-banks/${shared.id}/courses`, as(admin, { courseIds: [otherCourseId, sharedCourseId] }));
    expect((await call(app, "GET", `/v1/question-banks/${shared.id}`, as(sharedInstructor))).status).toBe(200);
    expect((await call(app, "GET", `/v1/question-banks/${shared.id}`, as(otherInstructor))).status).toBe(200);
    await expectProblem(await call(app, "GET", `/v1/question-banks/${shared.id}`, as(grader)), 403, "FORBIDDEN");
    await call(app, "PUT", `/v1/question-banks/${shared.id}/courses`, as(admin, { courseIds: [courseId] }));
    await expectProblem(await call(app, "PUT", `/v1/question-banks/${bankId}/courses`, as(admin, { courseIds: [otherCourseId] })), 422, "QUESTION_BANK_NOT_SHARED");
    await expectProblem(await call(app, "PUT", `/v1/question-banks/${shared.id}/courses`, as(admin, { courseIds: [crypto.randomUUID()] })), 404, "COURSE_NOT_FOUND");
    const [audits] = await db.sql<{ n: number }[]>`select count(*)::int as n from audit_log where target_id = ${shared.id} and action in ('question-bank.created', 'question-bank.sharing-changed')`;
    expect(audits?.n).toBe(4);
  });

  it("keeps item versions immutable behind If-Match, changes tags without a version, approves and retires", async () => {
    const before = (await call(app, "GET", `/v1/question-banks/${bankId}`, as(instructor))).headers.get("etag") as string;
    for (const a of authored) await expectJson(await call(app, "POST", `/v1/question-banks/${bankId}/items`, as(instructor, a)), 201);
    const draft = await expectJson<BankItemJson>(await call(app, "POST", `/v1/question-banks/${bankId}/items`, as(instructor, { ...authored[0], status: "draft", tags: [" spaced ", "spaced"] })), 201);
    expect(draft).toMatchObject({ status: "draft", origin: "authored", version: 1, tags: ["spaced"], approvedAt: null });
    expect(draft.item.id).toBe(draft.id);
    // Items do not change the bank's version, but the count it shows: the old ETag is not current.
    const reread = await call(app, "GET", `/v1/question-banks/${bankId}`, as(instructor, undefined, { "if-none-match": before }));
    expect(reread.status).toBe(200);
    expect(((await reread.json()) as { itemCount: number }).itemCount).toBe(authored.length + 1);
    await expectProblem(
      await call(app, "POST", `/v1/question-banks/${bankId}/items`, as(instructor, { item: authored[0]?.item, key: { type: "single", correct: "nope" } })),
      422,
      "INVALID_ITEM",
    );

    const read = await call(app, "GET", `/v1/bank-items/${draft.id}`, as(grader));
    expect(read.headers.get("etag")).toBe('"v1"');
    const revised = { item: { ...authored[0]?.item, prompt: "Pick again" }, key: { type: "single", correct: "a" } };
    const v2 = await call(app, "PUT", `/v1/bank-items/${draft.id}`, as(instructor, revised, { "if-match": '"v1"' }));
    expect(v2.status, await v2.clone().text()).toBe(200);
    expect(await v2.json()).toMatchObject({ version: 2, item: { id: draft.id, prompt: "Pick again" }, key: { correct: "a" } });
    await expectProblem(await call(app, "PUT", `/v1/bank-items/${draft.id}`, as(instructor, revised, { "if-match": '"v1"' })), 412, "PRECONDITION_FAILED");
    await expectProblem(await call(app, "PUT", `/v1/bank-items/${draft.id}`, as(instructor, { item: authored[3]?.item, key: authored[3]?.key }, { "if-match": '"v2"' })), 422, "BANK_ITEM_TYPE_CHANGED");
    const v1 = (await (await call(app, "GET", `/v1/bank-items/${draft.id}/versions/1`, as(instructor))).json()) as BankItemJson;
    expect(v1).toMatchObject({ version: 1, item: { prompt: "Pick <one> & only one" }, key: { correct: "b" } });
    await expectProblem(await call(app, "GET", `/v1/bank-items/${draft.id}/versions/9`, as(instructor)), 404, "BANK_ITEM_VERSION_NOT_FOUND");

    const tagged = await call(app, "PATCH", `/v1/bank-items/${draft.id}`, as(instructor, { tags: ["geometry", "unit-1"], difficulty: "medium" }));
    expect(await tagged.json()).toMatchObject({ version: 2, tags: ["geometry", "unit-1"], difficulty: "medium" });
    await expectProblem(await call(app, "PATCH", `/v1/bank-items/${draft.id}`, as(instructor, { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) })), 400, "VALIDATION_FAILED");

    await expectProblem(await call(app, "POST", `/v1/bank-items/${draft.id}/approve`, as(grader, undefined, { "if-match": '"v2"' })), 403, "FORBIDDEN");
    // The approval is of the version the reviewer read: none named is 428, an older one 412.
    await expectProblem(await call(app, "POST", `/v1/bank-items/${draft.id}/approve`, as(instructor)), 428, "PRECONDITION_REQUIRED");
    await expectProblem(await call(app, "POST", `/v1/bank-items/${draft.id}/approve`, as(instructor, undefined, { "if-match": '"v1"' })), 412, "PRECONDITION_FAILED");
    expect(((await (await call(app, "GET", `/v1/bank-items/${draft.id}`, as(instructor))).json()) as BankItemJson).status).toBe("draft");
    const approved = (await (await call(app, "POST", `/v1/bank-items/${draft.id}/approve`, as(instructor, undefined, { "if-match": '"v2"' }))).json()) as BankItemJson;
    expect(approved).toMatchObject({ status: "approved", approvedAt: expect.any(String) });
    const retired = (await (await call(app, "POST", `/v1/bank-items/${draft.id}/retire`, as(instructor))).json()) as BankItemJson;
    expect(retired.status).toBe("retired");
    await expectProblem(await call(app, "POST", `/v1/bank-items/${draft.id}/approve`, as(instructor, undefined, { "if-match": '"v2"' })), 409, "BANK_ITEM_RETIRED");
    await expectProblem(await call(app, "PUT", `/v1/bank-items/${draft.id}`, as(instructor, revised, { "if-match": '"v2"' })), 409, "BANK_ITEM_RETIRED");
    const audits = await db.sql<{ action: string; n: number }[]>`select action, count(*)::int as n from audit_log where target_id = ${draft.id} group by action order by action`;
    expect(audits).toEqual([
      { action: "bank-item.approved", n: 1 },
      { action: "bank-item.retired", n: 1 },
      { action: "bank-item.revised", n: 1 },
    ]);
  });

  it("filters items by status, every named tag, type and difficulty, a page at a time", async () => {
    expect(await itemsOf(bankId, grader, "&status=retired")).toHaveLength(1);
    expect((await itemsOf(bankId, grader, "&tag=algebra&tag=unit-1")).map((i) => i.item.prompt)).toEqual(["Pick <one> & only one"]);
    expect((await itemsOf(bankId, grader, "&type=numeric")).map((i) => i.key)).toHaveLength(3);
    expect((await itemsOf(bankId, grader, "&difficulty=hard")).map((i) => i.item.type)).toEqual(["true-false"]);
    const first = (await (await call(app, "GET", `/v1/question-banks/${bankId}/items?limit=5&status=approved`, as(grader))).json()) as { items: BankItemJson[]; nextCursor: string };
    const second = (await (await call(app, "GET", `/v1/question-banks/${bankId}/items?limit=100&status=approved&cursor=${first.nextCursor}`, as(grader))).json()) as { items: BankItemJson[] };
    expect(first.items.length + second.items.length).toBe(authored.length);
    expect(new Set([...first.items, ...second.items].map((i) => i.id)).size).toBe(authored.length);
  });

  it.each(["qti3", "qti21"])("exports a bank as a %s package that imports into a new bank as the same items", async (format) => {
    const exported = await call(app, "GET", `/v1/question-banks/${bankId}/export?format=${format}`, as(grader));
    expect(exported.status).toBe(200);
    expect(exported.headers.get("content-type")).toBe("application/zip");
    const zip = Buffer.from(await exported.arrayBuffer());
    const target = await newBank(`Copy ${format}`);
    const imported = await expectJson<{ imported: unknown[] }>(await upload(target, format, zip), 201);
    // QTI has no place for a status: the approved items alone, marked so, at their current versions.
    expect(imported.imported).toHaveLength(authored.length);
    const copies = await itemsOf(target);
    expect(content(copies)).toEqual(content(await itemsOf(bankId, instructor, "&status=approved")));
    expect(new Set(copies.map((c) => `${c.status}/${c.origin}`))).toEqual(new Set(["approved/imported"]));
  });

  it("exports and imports the JSON format", async () => {
    const exported = (await (await call(app, "GET", `/v1/question-banks/${bankId}/export?format=json`, as(instructor))).json()) as { format: string; version: number; items: unknown[] };
    expect(exported).toMatchObject({ format: "ringlet.question-bank", version: 1 });
    const target = await newBank("Copy json");
    await expectJson(await upload(target, "json", JSON.stringify(exported)), 201);
    const copies = await itemsOf(target);
    expect(content(copies)).toEqual(content(await itemsOf(bankId)));
    // Each item's standing travels: approved stays approved, the retired one comes back a draft (never drawable unseen).
    expect(copies.map((c) => c.status)).toEqual((await itemsOf(bankId)).map((i) => (i.status === "approved" ? "approved" : "draft")));
    expect(copies.filter((c) => c.status === "draft")).toHaveLength(1);
    const broken = { ...exported, items: [...exported.items, { item: { id: "x", type: "single", points: 1, choices: [{ id: "a", text: "A" }, { id: "b", text: "A" }] }, key: { type: "single", correct: "a" } }] };
    const problem = await expectProblem(await upload(target, "json", JSON.stringify(broken)), 422, "INVALID_ITEM");
    expect(problem.detail).toContain(`item ${exported.items.length}`);
    await expectProblem(await upload(target, "json", JSON.stringify({ format: "other", version: 1 })), 422, "BANK_IMPORT_INVALID");
    expect(await itemsOf(target)).toHaveLength(exported.items.length);
  });

  it("refuses XXE, billion laughs, malformed XML and oversized packages, and changes nothing", async () => {
    const target = await newBank("Hostile");
    const good = await (await call(app, "GET", `/v1/question-banks/${bankId}/export?format=qti3`, as(instructor))).arrayBuffer();
    const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><qti-assessment-item identifier="x"><qti-item-body><p>&e;</p></qti-item-body></qti-assessment-item>`;
    await expectProblem(await upload(target, "qti3", xxe), 422, "QTI_DOCTYPE_FORBIDDEN");
    const lols = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join("");
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${lols}]><assessmentItem identifier="x"><itemBody><p>&lol9;</p></itemBody></assessmentItem>`;
    // Inside a package that is otherwise good: nothing of it is imported.
    const goodFiles = await zipOf([{ name: "items/0-lol.xml", content: laughs }, { name: "items/a.xml", content: xxe.replace(/<!DOCTYPE[^\]]*\]>/, "") }]);
    expect(Buffer.from(good).length).toBeGreaterThan(0);
    await expectProblem(await upload(target, "qti21", goodFiles), 422, "QTI_DOCTYPE_FORBIDDEN");
    const malformed = await expectProblem(await upload(target, "qti3", await zipOf([{ name: "items/bad.xml", content: "<qti-assessment-item>\n<qti-item-body></qti-assessment-item>" }])), 422, "QTI_INVALID");
    expect(malformed.detail).toContain("items/bad.xml: line 2");
    // Deeper than the parser goes: refused as invalid, not a fault.
    const deep = `<qti-assessment-item identifier="d"><qti-item-body>${"<div>".repeat(150)}x${"</div>".repeat(150)}</qti-item-body></qti-assessment-item>`;
    await expectProblem(await upload(target, "qti3", deep), 422, "QTI_INVALID");
    // 11 MB of body: refused before it is read whole.
    await expectProblem(await upload(target, "qti3", Buffer.alloc(11 * 1024 * 1024, 1)), 413, "PAYLOAD_TOO_LARGE");
    // A small zip that inflates past the per-file cap (a zip bomb in miniature).
    const bomb = await zipOf([{ name: "items/big.xml", content: `<a>${"x".repeat(2 * 1024 * 1024)}</a>` }]);
    expect(bomb.length).toBeLessThan(100_000);
    await expectProblem(await upload(target, "qti3", bomb), 413, "BANK_IMPORT_TOO_LARGE");
    expect(await itemsOf(target)).toHaveLength(0);
    const [imports] = await db.sql<{ n: number }[]>`select count(*)::int as n from audit_log where target_id = ${target} and action = 'question-bank.imported'`;
    expect(imports?.n).toBe(0);
  });

  it("refuses an export larger than an import may be, rather than cutting it", async () => {
    const big = await newBank("Big");
    await db.sql`insert into bank_items (id, bank_id, type) select gen_random_uuid(), ${big}, 'essay' from generate_series(1, 2001)`;
    await db.sql`insert into bank_item_versions (item_id, version, item) select id, 1, jsonb_build_object('id', id::text, 'type', 'essay', 'points', 1, 'prompt', 'Discuss') from bank_items where bank_id = ${big}`;
    for (const format of ["json", "qti3"]) {
      const problem = await expectProblem(await call(app, "GET", `/v1/question-banks/${big}/export?format=${format}`, as(instructor)), 422, "BANK_EXPORT_TOO_LARGE");
      expect(problem.detail).toContain("2000");
    }
  });

  it("answers a generation job 503 naming the settings when no model is configured", async () => {
    const res = await call(app, "POST", `/v1/question-banks/${bankId}/generation-jobs`, as(instructor, { count: 2, itemTypes: ["single"], source: { lessonId: crypto.randomUUID() } }, { "idempotency-key": crypto.randomUUID() }));
    const problem = await expectProblem(res, 503, "GENERATION_NOT_CONFIGURED");
    expect(problem.detail).toContain("AZURE_OPENAI_ENDPOINT");
    expect(problem.detail).toContain("AZURE_OPENAI_DEPLOYMENT");
  });

  it("deletes a bank unless an assessment's pool draws from it", async () => {
    const doomed = await newBank("Doomed");
    const used = await newBank("Used");
    await db.sql`insert into assessments (id, course_id, title, kind, items, pools) values (${crypto.randomUUID()}, ${courseId}, 'Pooled', 'quiz', '[]'::jsonb,
      ${JSON.stringify([{ id: "p1", bankId: used, count: 1, tags: [] }])}::jsonb)`;
    await expectProblem(await call(app, "DELETE", `/v1/question-banks/${used}`, as(instructor)), 409, "QUESTION_BANK_IN_USE");
    await expectProblem(await call(app, "DELETE", `/v1/question-banks/${doomed}`, as(grader)), 403, "FORBIDDEN");
    expect((await call(app, "DELETE", `/v1/question-banks/${doomed}`, as(instructor))).status).toBe(204);
    await expectProblem(await call(app, "GET", `/v1/question-banks/${doomed}`, as(admin)), 404, "NOT_FOUND");
    const [audits] = await db.sql<{ n: number }[]>`select count(*)::int as n from audit_log where target_id = ${doomed} and action = 'question-bank.deleted'`;
    expect(audits?.n).toBe(1);
  });
});
