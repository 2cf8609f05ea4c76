import { ServiceBusClient } from "@azure/service-bus";
import { BlockBlobClient } from "@azure/storage-blob";
import { PDFDocument, StandardFonts } from "pdf-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectJson, type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { openAIRequests, openAIStandInSettings, scriptOpenAI } from "../support/openai.js";
import { fireFunction } from "../support/timers.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// The AI generator worker (issue 20) over HTTP and the question-generation queue, with the real `openai` client
// calling the runtime's stand-in for Azure OpenAI (scripted malformed items, unreadable answers and 429s).

let db: TestDatabase;
let app: RunningApp;
let instructor: TestUser;
let outsider: TestUser;
let courseId: string;
let bankId: string;
let lessonId: string;
let otherLessonId: string;
const MAX_DOCUMENT_BYTES = 64 * 1024;

interface Job {
  id: string;
  status: string;
  count: number;
  progress: { requested: number; generated: number; stored: number; discarded: number };
  calls: number;
  notBefore: string | null;
  source: Record<string, unknown>;
  result: { itemIds: string[]; discarded: { index: number; reason: string }[]; error: string | null };
}

const staff = () => ({ token: instructor.accessToken });
const startJob = (body: unknown, headers: Record<string, string> = {}) => call(app, "POST", `/v1/question-banks/${bankId}/generation-jobs`, { ...staff(), body, headers });
const getJob = async (id: string) => expectJson<Job>(await call(app, "GET", `/v1/generation-jobs/${id}`, staff()), 200);
const finished = (id: string, seen?: (job: Job) => void) =>
  waitFor(
    `generation job ${id} finished`,
    async () => {
      const job = await getJob(id);
      seen?.(job);
      return job.status === "succeeded" || job.status === "failed" ? job : undefined;
    },
    { timeoutMs: 60_000, stepMs: 100, diagnostics: () => recentErrors(app) },
  );
const count = async (query: Promise<{ n: number }[]>) => (await query)[0]?.n ?? -1;
const jobRows = () => count(db.sql<{ n: number }[]>`select count(*)::int as n from generation_jobs`);

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url, ...openAIStandInSettings, GENERATION_MAX_DOCUMENT_BYTES: String(MAX_DOCUMENT_BYTES), GENERATION_MAX_ITEMS: "8" } });
  instructor = await signUp(app, db, { label: "instructor" });
  outsider = await signUp(app, db, { label: "outsider" });
  const admin = await signUp(app, db, { admin: true, label: "admin" });
  const newCourse = async (title: string) => (await expectJson<{ id: string }>(await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title } }), 201)).id;
  courseId = await newCourse("Cell biology");
  const otherCourseId = await newCourse("Elsewhere");
  await db.sql`insert into course_staff (course_id, user_id, role) values (${courseId}, ${instructor.id}, 'instructor')`;
  const lesson = async (course: string, token: string, body: string) => {
    const { id: moduleId } = await expectJson<{ id: string }>(await call(app, "POST", `/v1/courses/${course}/modules`, { token, body: { title: "Cells" } }), 201);
    return (await expectJson<{ id: string }>(await call(app, "POST", `/v1/courses/${course}/modules/${moduleId}/lessons`, { token, body: { title: "The cell", kind: "text", body } }), 201)).id;
  };
  lessonId = await lesson(courseId, instructor.accessToken, "Photosynthesis turns light, water and carbon dioxide into glucose and oxygen in the chloroplasts.");
  otherLessonId = await lesson(otherCourseId, admin.accessToken, "Elsewhere entirely.");
  bankId = (await expectJson<{ id: string }>(await call(app, "POST", `/v1/courses/${courseId}/question-banks`, { ...staff(), body: { title: "Generated" } }), 201)).id;
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

describe("AI question generation", () => {
  let firstJob: Job;

  it("stores the good items of an answer with one malformed item as drafts only; a pool counts them once approved", async () => {
    await scriptOpenAI(app, [{ malformedItems: [2] }]);
    const res = await startJob({ count: 5, itemTypes: ["single", "numeric"], source: { lessonId } }, { "idempotency-key": "first-job" });
    const started = await expectJson<Job>(res, 202);
    expect(res.headers.get("location")).toBe(`/api/v1/generation-jobs/${started.id}`);
    expect(started).toMatchObject({ status: "queued", count: 5, source: { kind: "lesson", lessonId }, progress: { requested: 5, generated: 0 } });
    firstJob = await finished(started.id);
    expect(firstJob).toMatchObject({ status: "succeeded", calls: 1, progress: { requested: 5, generated: 5, stored: 4, discarded: 1 }, result: { error: null } });
    // Item 2 is a single item (types alternate) whose two choices say the same thing.
    expect(firstJob.result.discarded).toEqual([{ index: 2, reason: "q3: two choices say the same thing" }]);
    expect(firstJob.result.itemIds).toHaveLength(4);
    for (const itemId of firstJob.result.itemIds) {
      const item = await expectJson<{ status: string; origin: string; generationJobId: string; approvedAt: string | null; key: unknown }>(await call(app, "GET", `/v1/bank-items/${itemId}`, staff()), 200);
      expect(item).toMatchObject({ status: "draft", origin: "generated", generationJobId: started.id, approvedAt: null });
      expect(item.key).toBeTruthy();
    }
    expect(await count(db.sql`select count(*)::int as n from bank_items where bank_id = ${bankId} and status <> 'draft'`)).toBe(0);
    const [asked] = await openAIRequests(app);
    expect(asked).toMatchObject({ deployment: "gpt-4o-items", auth: "api-key", ask: "generate count=5 types=single,numeric", responseFormat: { type: "json_schema", name: "generated_items", strict: true }, status: 200 });

    // The same request again (its Idempotency-Key) is the same job: nothing more is asked of the model.
    expect((await expectJson<Job>(await startJob({ count: 5, itemTypes: ["single", "numeric"], source: { lessonId } }, { "idempotency-key": "first-job" }), 202)).id).toBe(started.id);

    // Drafts are not drawable: a pool of 4 finds none until a person approves them.
    const quiz = () => call(app, "POST", `/v1/courses/${courseId}/assessments`, { ...staff(), body: { title: "Generated quiz", kind: "quiz", pools: [{ id: "gen", bankId, count: 4, tags: [] }] } });
    expect((await expectJson<{ code: string; pools: unknown[] }>(await quiz(), 422)).pools).toEqual([{ poolId: "gen", count: 4, matching: 0, earlierPoolsMayTake: 0 }]);
    for (const itemId of firstJob.result.itemIds) await expectJson(await call(app, "POST", `/v1/bank-items/${itemId}/approve`, { ...staff(), headers: { "if-match": '"v1"' } }), 200);
    await expectJson(await quiz(), 201);
    expect((await openAIRequests(app)).length).toBe(1);
  });

  it("generates nothing twice for a duplicated or redelivered message", async () => {
    const before = (await openAIRequests(app)).length;
    const client = new ServiceBusClient(app.env.ServiceBusConnection as string);
    try {
      const sender = client.createSender("question-generation");
      for (const messageId of ["again-1", "again-2"]) await sender.sendMessages({ messageId, contentType: "application/json", body: { jobId: firstJob.id, traceparent: null } });
      await sender.close();
    } finally {
      await client.close();
    }
    // A job after the duplicates: when it is done, they were taken from the queue too.
    const after = await finished((await expectJson<Job>(await startJob({ count: 1, itemTypes: ["true-false"], source: { lessonId } }), 202)).id);
    expect(after.status).toBe("succeeded");
    expect((await openAIRequests(app)).length).toBe(before + 1);
    expect(await count(db.sql`select count(*)::int as n from bank_items where generation_job_id = ${firstJob.id}`)).toBe(4);
    expect((await getJob(firstJob.id)).calls).toBe(1);
  });

  it("honours 429 with Retry-After: the job waits on the queue (the SDK does not retry), every request counted; progress shows over GET", async () => {
    const before = (await openAIRequests(app)).length;
    await scriptOpenAI(app, [{}, { status: 429, retryAfterSeconds: 1 }, { status: 429, retryAfterSeconds: 2 }]);
    const started = await expectJson<Job>(await startJob({ count: 7, itemTypes: ["single", "true-false"], source: { lessonId } }), 202);
    const seen: Job[] = [];
    const done = await finished(started.id, (job) => seen.push(job));
    expect(done).toMatchObject({ status: "succeeded", calls: 4, notBefore: null, progress: { requested: 7, generated: 7, stored: 7, discarded: 0 } });
    expect(done.result.itemIds).toHaveLength(7);
    // Waiting out the rate limit on the queue, with the first call's five items stored.
    expect(seen.some((j) => j.status === "queued" && j.notBefore !== null && j.progress.stored === 5)).toBe(true);
    const requests = (await openAIRequests(app)).slice(before);
    expect(requests.map((r) => [r.status, r.ask])).toEqual([
      [200, "generate count=5 types=single,true-false"],
      [429, "generate count=2 types=single,true-false"],
      [429, "generate count=2 types=single,true-false"],
      [200, "generate count=2 types=single,true-false"],
    ]);
    // `calls` counts what was sent: no retry happens out of the job's sight.
    expect(requests).toHaveLength(done.calls);
    const at = requests.map((r) => Date.parse(r.at));
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(1000);
    expect(at[3]! - at[2]!).toBeGreaterThanOrEqual(2000);
  });

  it("sends again a job whose message was lost (left queued a minute past its time)", async () => {
    const jobId = crypto.randomUUID();
    await db.sql`insert into generation_jobs (id, bank_id, course_id, requested_by_user_id, source, item_types, count, status, progress, created_at, updated_at)
      values (${jobId}, ${bankId}, ${courseId}, ${instructor.id}, ${JSON.stringify({ kind: "lesson", lessonId })}::jsonb, '{true-false}', 1, 'queued',
        ${JSON.stringify({ requested: 1, generated: 0, stored: 0, discarded: 0 })}::jsonb, now() - interval '2 minutes', now() - interval '2 minutes')`;
    expect((await fireFunction(app, "generation-resend")).status).toBe(202);
    expect(await finished(jobId)).toMatchObject({ status: "succeeded", progress: { stored: 1 } });
  });

  it("retries an answer that is not JSON a bounded number of times, then fails the job with the reason", async () => {
    await scriptOpenAI(app, [{ invalidJson: true }, { invalidJson: true }, { invalidJson: true }]);
    const failed = await finished((await expectJson<Job>(await startJob({ count: 2, itemTypes: ["essay"], source: { lessonId } }), 202)).id);
    expect(failed).toMatchObject({ status: "failed", calls: 3, progress: { stored: 0 }, result: { itemIds: [], error: "the model's answer is not JSON (3 answers in a row)" } });
  });

  it("generates from an uploaded PDF's text; the document serves one job", async () => {
    const pdf = await PDFDocument.create();
    const page = pdf.addPage();
    page.drawText("Mitochondria release energy from glucose.", { x: 50, y: 700, size: 14, font: await pdf.embedFont(StandardFonts.Helvetica) });
    const bytes = await pdf.save();
    const doc = await expectJson<{ documentId: string; upload: { url: string } }>(
      await call(app, "POST", `/v1/question-banks/${bankId}/generation-documents`, { ...staff(), body: { fileName: "cells.pdf", contentType: "application/pdf", size: bytes.length } }),
      201,
    );
    await new BlockBlobClient(doc.upload.url).upload(bytes, bytes.length, { blobHTTPHeaders: { blobContentType: "application/pdf" } });
    const job = await finished((await expectJson<Job>(await startJob({ count: 2, itemTypes: ["essay", "short-text"], source: { documentId: doc.documentId } }), 202)).id);
    expect(job).toMatchObject({ status: "succeeded", source: { kind: "document", fileName: "cells.pdf" }, progress: { stored: 2 } });
    const first = await expectJson<{ item: { type: string; prompt: string } }>(await call(app, "GET", `/v1/bank-items/${job.result.itemIds[0]}`, staff()), 200);
    // The stand-in words its prompts from the source it was sent: the PDF's text reached the model.
    expect(first.item).toMatchObject({ type: "essay", prompt: expect.stringContaining("Mitochondria release energy") });
    expect((await expectJson<{ code: string }>(await startJob({ count: 1, itemTypes: ["essay"], source: { documentId: doc.documentId } }), 409)).code).toBe("GENERATION_DOCUMENT_NOT_UPLOADED");
  });

  it("refuses a 50 MB document, an upload over the maximum, an upload other than declared, and bad asks with a 4xx, creating and queuing nothing", async () => {
    const jobs = await jobRows();
    const requests = (await openAIRequests(app)).length;
    const declare = (size: number) => call(app, "POST", `/v1/question-banks/${bankId}/generation-documents`, { ...staff(), body: { fileName: "big.txt", contentType: "text/plain", size } });
    expect((await expectJson<{ code: string }>(await declare(50 * 1024 * 1024), 413)).code).toBe("DOCUMENT_TOO_LARGE");
    expect(await jobRows()).toBe(jobs);

    const doc = await expectJson<{ documentId: string; upload: { url: string } }>(await declare(1000), 201);
    const big = Buffer.alloc(MAX_DOCUMENT_BYTES + 1, "a");
    await new BlockBlobClient(doc.upload.url).upload(big, big.length, { blobHTTPHeaders: { blobContentType: "text/plain" } });
    const tooBig = await expectJson<{ code: string }>(await startJob({ count: 1, itemTypes: ["essay"], source: { documentId: doc.documentId } }), 413);
    expect(tooBig.code).toBe("DOCUMENT_TOO_LARGE");
    expect((await db.sql<{ status: string }[]>`select status from generation_jobs where id = ${doc.documentId}`)[0]?.status).toBe("awaiting-upload");

    // Within the maximum but not the declared size: the stored blob is checked against the declaration.
    const declared = await expectJson<{ documentId: string; upload: { url: string } }>(await declare(1000), 201);
    const other = Buffer.alloc(1200, "a");
    await new BlockBlobClient(declared.upload.url).upload(other, other.length, { blobHTTPHeaders: { blobContentType: "text/plain" } });
    expect((await expectJson<{ code: string }>(await startJob({ count: 1, itemTypes: ["essay"], source: { documentId: declared.documentId } }), 422)).code).toBe("GENERATION_DOCUMENT_MISMATCH");
    expect((await db.sql<{ status: string }[]>`select status from generation_jobs where id = ${declared.documentId}`)[0]?.status).toBe("awaiting-upload");

    const problem = async (body: unknown, status: number) => (await expectJson<{ code: string }>(await startJob(body), status)).code;
    expect(await problem({ count: 9, itemTypes: ["essay"], source: { lessonId } }, 422)).toBe("GENERATION_TOO_MANY_ITEMS");
    expect(await problem({ count: 1, itemTypes: [], source: { lessonId } }, 400)).toBe("VALIDATION_FAILED");
    expect(await problem({ count: 1, itemTypes: ["matching"], source: { lessonId } }, 400)).toBe("VALIDATION_FAILED");
    expect(await problem({ count: 1, itemTypes: ["essay"], source: { lessonId: otherLessonId } }, 404)).toBe("LESSON_NOT_FOUND");
    const foreign = await call(app, "POST", `/v1/question-banks/${bankId}/generation-jobs`, { token: outsider.accessToken, body: { count: 1, itemTypes: ["essay"], source: { lessonId } } });
    expect(foreign.status).toBe(403);
    expect((await call(app, "GET", `/v1/generation-jobs/${doc.documentId}`, staff())).status).toBe(404);
    await new Promise((r) => setTimeout(r, 300));
    expect(await jobRows()).toBe(jobs + 2);
    expect((await openAIRequests(app)).length).toBe(requests);
  });
});
