import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bankItems, generationJobs } from "../../../domain/db/schema/index.js";
import { CLAIM_LEASE_MS, claimGenerationJob, MAX_GENERATION_FAULTS, generationJobsLeftQueued, runGenerationJob, type GenerationWorker } from "../../../domain/generation/run-generation.js";
import type { ModelAnswer, ModelRequest } from "../../../domain/generation/question-model.js";
import { eq } from "drizzle-orm";
import { expireGenerationDocuments } from "../../../domain/generation/expire-documents.js";
import { openDomainDatabase } from "../../support/domain-database.js";
import type { TestDatabase } from "../../support/database.js";

let db: TestDatabase;
let bankId: string;
let courseId: string;
let lessonId: string;

beforeAll(async () => {
  ({ db } = await openDomainDatabase());
  courseId = uuidv7();
  bankId = uuidv7();
  lessonId = uuidv7();
  const moduleId = uuidv7();
  await db.sql`insert into courses (id, title) values (${courseId}, 'Generation')`;
  await db.sql`insert into modules (id, course_id, title, position) values (${moduleId}, ${courseId}, 'M', 1)`;
  await db.sql`insert into lessons (id, module_id, course_id, title, kind, position, body) values (${lessonId}, ${moduleId}, ${courseId}, 'L', 'text', 1, 'Water boils at 100 degrees.')`;
  await db.sql`insert into question_banks (id, course_id, title) values (${bankId}, ${courseId}, 'Bank')`;
});

afterAll(async () => {
  await db?.drop();
});

async function queuedJob(count = 2): Promise<string> {
  const id = uuidv7();
  await db.db.insert(generationJobs).values({ id, bankId, courseId, source: { kind: "lesson", lessonId }, itemTypes: ["true-false"], count, progress: { requested: count, generated: 0, stored: 0, discarded: 0 } });
  return id;
}

const trueFalse = (n: number) => JSON.stringify({ items: Array.from({ length: n }, (_, i) => ({ item: { id: `t${i}`, type: "true-false", points: 1, prompt: `Claim ${i}` }, key: { type: "true-false", correct: true }, difficulty: "easy" })) });

/** A model double answering from a list (then valid items), counting its calls. */
function worker(answers: ModelAnswer[], at: () => Date = () => new Date()): GenerationWorker & { calls: ModelRequest[] } {
  const calls: ModelRequest[] = [];
  return {
    db: db.db,
    now: at,
    newId: uuidv7,
    calls,
    documentText: () => Promise.resolve(null),
    model: {
      complete: (request) => {
        calls.push(request);
        const count = Number(/count=(\d+)/.exec(request.user)?.[1]);
        return Promise.resolve(answers.shift() ?? { kind: "answer", content: trueFalse(count) });
      },
    },
  };
}

const itemsOf = async (jobId: string) => (await db.db.select({ status: bankItems.status, origin: bankItems.origin }).from(bankItems).where(eq(bankItems.generationJobId, jobId)));
const jobOf = async (jobId: string) => (await db.db.select().from(generationJobs).where(eq(generationJobs.id, jobId)))[0]!;

describe("claiming and running a generation job", () => {
  it("lets exactly one of two racing deliveries claim a job", async () => {
    const id = await queuedJob();
    const claims = await Promise.all([claimGenerationJob(db.db, id, new Date()), claimGenerationJob(db.db, id, new Date())]);
    expect(claims.map((c) => c.kind).sort()).toEqual(["claimed", "skipped"]);
  });

  it("stores drafts once: a redelivered message after the run generates nothing", async () => {
    const id = await queuedJob(2);
    const w = worker([]);
    expect(await runGenerationJob(w, id)).toEqual({ kind: "finished", status: "succeeded" });
    expect(await runGenerationJob(w, id)).toEqual({ kind: "skipped", reason: "the job is succeeded" });
    expect(w.calls).toHaveLength(1);
    expect(await itemsOf(id)).toEqual([{ status: "draft", origin: "generated" }, { status: "draft", origin: "generated" }]);
  });

  it("puts a rate-limited job back until Retry-After; a message before then is sent again for that time", async () => {
    const id = await queuedJob(1);
    const now = new Date("2030-01-01T00:00:00Z");
    const limited = await runGenerationJob(worker([{ kind: "rate-limited", retryAfterMs: 30_000 }], () => now), id);
    expect(limited).toEqual({ kind: "later", notBefore: new Date("2030-01-01T00:00:30Z") });
    expect(await jobOf(id)).toMatchObject({ status: "queued", calls: 1 });
    expect(await claimGenerationJob(db.db, id, new Date("2030-01-01T00:00:10Z"))).toEqual({ kind: "later", notBefore: new Date("2030-01-01T00:00:30Z") });
    expect(await runGenerationJob(worker([], () => new Date("2030-01-01T00:00:31Z")), id)).toEqual({ kind: "finished", status: "succeeded" });
    expect(await jobOf(id)).toMatchObject({ status: "succeeded", calls: 2, notBefore: null });
  });

  it("takes over a running job only after its lease, and the old claim then writes nothing", async () => {
    const id = await queuedJob(1);
    const t0 = new Date();
    const first = await claimGenerationJob(db.db, id, t0);
    expect(first.kind).toBe("claimed");
    expect((await claimGenerationJob(db.db, id, new Date(t0.getTime() + 1000))).kind).toBe("skipped");
    const late = new Date(t0.getTime() + CLAIM_LEASE_MS + 1000);
    expect(await runGenerationJob(worker([], () => late), id)).toEqual({ kind: "finished", status: "succeeded" });
    expect(await itemsOf(id)).toHaveLength(1);
  });

  it("fails a job whose answers are not JSON after a bounded number of calls, keeping nothing", async () => {
    const id = await queuedJob(1);
    const w = worker([1, 2, 3].map(() => ({ kind: "answer", content: "not json" })));
    expect(await runGenerationJob(w, id)).toEqual({ kind: "finished", status: "failed" });
    expect(w.calls).toHaveLength(3);
    expect(await jobOf(id)).toMatchObject({ status: "failed", calls: 3, error: "the model's answer is not JSON (3 answers in a row)" });
    expect(await itemsOf(id)).toEqual([]);
  });

  it("finds the jobs left queued past their time, whose message was lost", async () => {
    const id = await queuedJob(1);
    const soon = new Date(Date.now() + 60_000);
    expect((await generationJobsLeftQueued(db.db, soon, 1000)).map((j) => j.id)).toContain(id);
    expect((await generationJobsLeftQueued(db.db, new Date(Date.now() - 60_000), 1000)).map((j) => j.id)).not.toContain(id);
    await runGenerationJob(worker([]), id);
    expect((await generationJobsLeftQueued(db.db, soon, 1000)).map((j) => j.id)).not.toContain(id);
  });

  it("puts the job back on a fault so the redelivered message can claim it", async () => {
    const id = await queuedJob(1);
    const w = worker([]);
    w.model = { complete: () => Promise.reject(new Error("connection reset")) };
    await expect(runGenerationJob(w, id)).rejects.toThrow("connection reset");
    expect(await jobOf(id)).toMatchObject({ status: "queued", faults: 1, calls: 1 });
    expect(await runGenerationJob(worker([]), id)).toEqual({ kind: "finished", status: "succeeded" });
    expect(await jobOf(id)).toMatchObject({ status: "succeeded", faults: 1, calls: 2 });
  });

  it("fails a job after MAX_GENERATION_FAULTS faulted deliveries, and the resend timer no longer picks it", async () => {
    const id = await queuedJob(1);
    const w = worker([]);
    w.model = { complete: () => Promise.reject(new Error("connection reset")) };
    const soon = new Date(Date.now() + 60_000);
    for (let i = 1; i < MAX_GENERATION_FAULTS; i++) {
      await expect(runGenerationJob(w, id)).rejects.toThrow("connection reset");
      expect((await generationJobsLeftQueued(db.db, soon, 1000)).map((j) => j.id)).toContain(id);
    }
    expect(await runGenerationJob(w, id)).toEqual({ kind: "finished", status: "failed" });
    expect(await jobOf(id)).toMatchObject({ status: "failed", faults: MAX_GENERATION_FAULTS, calls: MAX_GENERATION_FAULTS, error: `${MAX_GENERATION_FAULTS} attempts ended in a fault; the last: connection reset` });
    expect((await generationJobsLeftQueued(db.db, soon, 1000)).map((j) => j.id)).not.toContain(id);
    expect(await runGenerationJob(worker([]), id)).toEqual({ kind: "skipped", reason: "the job is failed" });
  });

  it("does not resend a queued job at its fault limit", async () => {
    const id = await queuedJob(1);
    await db.db.update(generationJobs).set({ faults: MAX_GENERATION_FAULTS }).where(eq(generationJobs.id, id));
    expect((await generationJobsLeftQueued(db.db, new Date(Date.now() + 60_000), 1000)).map((j) => j.id)).not.toContain(id);
  });
});

describe("expiring generation documents", () => {
  const removed: string[] = [];
  const files = { remove: (name: string) => Promise.resolve(void removed.push(name)), removePrefix: () => Promise.resolve(0) };
  const documentRow = async (status: string, createdAt: Date, finishedAt: Date | null) => {
    const id = uuidv7();
    const source = { kind: "document" as const, blobName: `generation/${id}/document.txt`, fileName: "d.txt", contentType: "text/plain", declaredSize: 10 };
    await db.db.insert(generationJobs).values({ id, bankId, courseId, source, itemTypes: ["essay"], count: 1, status: status as "queued", progress: { requested: 1, generated: 0, stored: 0, discarded: 0 }, createdAt, finishedAt });
    return { id, blobName: source.blobName };
  };

  it("deletes documents no job took after a day, and finished jobs' blobs after the retention, once", async () => {
    const now = new Date("2031-06-01T00:00:00Z");
    const ago = (days: number) => new Date(now.getTime() - days * 86_400_000);
    const unusedOld = await documentRow("awaiting-upload", ago(1.5), null);
    const unusedNew = await documentRow("awaiting-upload", ago(0.5), null);
    const doneOld = await documentRow("succeeded", ago(40), ago(31));
    const failedOld = await documentRow("failed", ago(40), ago(31));
    const doneNew = await documentRow("succeeded", ago(40), ago(29));
    const running = await documentRow("running", ago(40), null);
    expect(await expireGenerationDocuments(db.db, now, 30, files)).toEqual({ unused: 1, finished: 2 });
    expect(removed.sort()).toEqual([unusedOld.blobName, doneOld.blobName, failedOld.blobName].sort());
    const ids = (await db.db.select({ id: generationJobs.id }).from(generationJobs)).map((r) => r.id);
    expect(ids).not.toContain(unusedOld.id);
    expect(ids).toEqual(expect.arrayContaining([unusedNew.id, doneOld.id, doneNew.id, running.id]));
    expect((await jobOf(doneOld.id)).source).toMatchObject({ kind: "document", fileName: "d.txt", removedAt: now.toISOString() });
    expect((await jobOf(doneNew.id)).source).not.toHaveProperty("removedAt");
    removed.length = 0;
    expect(await expireGenerationDocuments(db.db, now, 30, files)).toEqual({ unused: 0, finished: 0 });
    expect(removed).toEqual([]);
  });
});
