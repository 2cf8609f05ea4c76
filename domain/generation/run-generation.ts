import { and, eq, lt, sql } from "drizzle-orm";
import { insertBankItems } from "../banks/bank-items.js";
import type { Database, Executor } from "../db/client.js";
import { generationJobs, type GenerationProgress, type GenerationSource, lessons } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { storableText } from "../grading/item-checks.js";
import { checkModelAnswer, type DiscardedItem } from "./model-output.js";
import { generationRequest, ITEMS_PER_CALL } from "./prompt.js";
import type { QuestionModel } from "./question-model.js";
import type { GenerationJobRow } from "./generation-jobs.js";

/** A running job not touched for this long is taken to be abandoned (its worker died): a redelivery may take it over. */
export const CLAIM_LEASE_MS = 5 * 60_000;
/** Calls per batch whose answer is not JSON before the job fails. */
export const MAX_UNREADABLE_ANSWERS = 3;
/** Deliveries ending in a fault (the service down, a timeout, a database refusal) before the job fails. */
export const MAX_GENERATION_FAULTS = 5;

export interface GenerationWorker {
  db: Database;
  now(): Date;
  newId(): string;
  model: QuestionModel;
  /** The text of an uploaded document (plain, markdown or PDF); null when the blob is gone. */
  documentText(source: Extract<GenerationSource, { kind: "document" }>): Promise<string | null>;
}

export type GenerationOutcome =
  /** Nothing done: no such job, or another delivery runs it or ran it (a duplicate or redelivered message). */
  | { kind: "skipped"; reason: string }
  | { kind: "finished"; status: "succeeded" | "failed" }
  /** Rate limited (or the message came early): send the job's message again for this time. */
  | { kind: "later"; notBefore: Date };

export type Claim = { kind: "claimed"; job: GenerationJobRow; token: Date } | { kind: "skipped"; reason: string } | { kind: "later"; notBefore: Date };

/**
 * Claims a job for this delivery under its row lock: a queued job whose time has come, or a running one whose
 * worker went quiet past the lease. Its `started_at` becomes this claim's token: every later write names it, so a
 * delivery that lost the job (taken over after its lease) writes nothing.
 */
export async function claimGenerationJob(db: Database, jobId: string, now: Date): Promise<Claim> {
  return db.transaction(async (tx) => {
    const [job] = await tx.select().from(generationJobs).where(eq(generationJobs.id, jobId)).for("update");
    if (!job) return { kind: "skipped", reason: "no such job" };
    if (job.status === "queued" && job.notBefore && job.notBefore.getTime() > now.getTime()) return { kind: "later", notBefore: job.notBefore };
    const abandoned = job.status === "running" && now.getTime() - job.updatedAt.getTime() > CLAIM_LEASE_MS;
    if (job.status !== "queued" && !abandoned) return { kind: "skipped", reason: `the job is ${job.status}` };
    const [claimed] = await tx
      .update(generationJobs)
      .set({ status: "running", startedAt: now, notBefore: null, updatedAt: now })
      .where(eq(generationJobs.id, jobId))
      .returning();
    return { kind: "claimed", job: claimed as GenerationJobRow, token: now };
  });
}

const held = (jobId: string, token: Date) => and(eq(generationJobs.id, jobId), eq(generationJobs.status, "running"), eq(generationJobs.startedAt, token));

/** Runs one delivery of a job's message: claim, read the source, ask in batches, keep the good items as drafts. */
export async function runGenerationJob(w: GenerationWorker, jobId: string): Promise<GenerationOutcome> {
  const claim = await claimGenerationJob(w.db, jobId, w.now());
  if (claim.kind !== "claimed") return claim;
  const { job, token } = claim;
  const model = countedModel(w.model);
  try {
    return await generate({ ...w, model }, job, token);
  } catch (err) {
    // A fault: counted on the job (with the model request it may have been, so `calls` is what was sent). Under the
    // limit the job goes back to the queue and the thrown error has the message redelivered, which claims it again;
    // at the limit the job fails with the reason, so nothing retries it forever.
    const calls = sql`${generationJobs.calls} + ${model.failed}`;
    const now = w.now();
    if (job.faults + 1 >= MAX_GENERATION_FAULTS) {
      const error = storableText(`${MAX_GENERATION_FAULTS} attempts ended in a fault; the last: ${err instanceof Error ? err.message : String(err)}`).slice(0, 2000);
      return finish(w, jobId, token, { status: "failed", error, calls: model.failed, faults: 1 });
    }
    await w.db.update(generationJobs).set({ status: "queued", faults: sql`${generationJobs.faults} + 1`, calls, updatedAt: now }).where(held(jobId, token));
    throw err;
  }
}

/** The model, counting its requests that threw (the others are counted where their answer is handled). */
function countedModel(model: QuestionModel): QuestionModel & { failed: number } {
  const counted = {
    failed: 0,
    complete: async (request: Parameters<QuestionModel["complete"]>[0]) => {
      try {
        return await model.complete(request);
      } catch (err) {
        counted.failed += 1;
        throw err;
      }
    },
  };
  return counted;
}

async function generate(w: GenerationWorker, job: GenerationJobRow, token: Date): Promise<GenerationOutcome> {
  const text = await sourceText(w, job);
  if (!text) return finish(w, job.id, token, { status: "failed", error: "the source has no text to generate from" });
  const progress: GenerationProgress = { ...job.progress };
  while (progress.generated < job.count) {
    const asked = Math.min(ITEMS_PER_CALL, job.count - progress.generated);
    const request = generationRequest(asked, job.itemTypes, text);
    let unreadable = 0;
    for (;;) {
      const answer = await w.model.complete(request);
      if (answer.kind === "rate-limited") {
        const notBefore = new Date(w.now().getTime() + answer.retryAfterMs);
        const [left] = await w.db
          .update(generationJobs)
          .set({ status: "queued", notBefore, calls: sql`${generationJobs.calls} + 1`, updatedAt: w.now() })
          .where(held(job.id, token))
          .returning({ id: generationJobs.id });
        return left ? { kind: "later", notBefore } : { kind: "skipped", reason: "the job was taken over" };
      }
      const checked = checkModelAnswer(answer.content, job.itemTypes, progress.generated);
      if (checked.kind === "not-json") {
        unreadable += 1;
        if (unreadable >= MAX_UNREADABLE_ANSWERS) {
          return finish(w, job.id, token, { status: "failed", error: `${checked.reason} (${unreadable} answers in a row)`, calls: 1 });
        }
        await w.db.update(generationJobs).set({ calls: sql`${generationJobs.calls} + 1`, updatedAt: w.now() }).where(held(job.id, token));
        continue;
      }
      const kept = checked.valid.filter((v) => v.index < progress.generated + asked);
      const discarded: DiscardedItem[] = [
        ...checked.discarded.filter((d) => d.index < progress.generated + asked),
        // Items past what was asked are not kept; items the answer lacks count as discarded, so the job ends.
        ...(checked.given > asked ? [{ index: progress.generated + asked, reason: `the model gave ${checked.given} items; ${asked} were asked for (the rest were dropped)` }] : []),
        ...Array.from({ length: Math.max(0, asked - checked.given) }, (_, i) => ({ index: progress.generated + checked.given + i, reason: "missing from the model's answer" })),
      ];
      progress.generated += asked;
      progress.stored += kept.length;
      progress.discarded += asked - kept.length;
      const stored = await storeBatch(w, job, token, kept, discarded, { ...progress });
      if (!stored) return { kind: "skipped", reason: "the job was taken over" };
      break;
    }
  }
  return finish(w, job.id, token, { status: "succeeded", error: null });
}

/** One batch's drafts and the job's progress, in one transaction under the claim (false: the claim was lost). */
async function storeBatch(w: GenerationWorker, job: GenerationJobRow, token: Date, kept: Parameters<typeof insertBankItems>[2], discarded: DiscardedItem[], progress: GenerationProgress): Promise<boolean> {
  return w.db.transaction(async (tx) => {
    const [mine] = await tx.select({ id: generationJobs.id }).from(generationJobs).where(held(job.id, token)).for("update");
    if (!mine) return false;
    const ctx: DomainContext = { db: tx, now: w.now, newId: w.newId, actor: { userId: job.requestedByUserId, requestId: null, clientIp: null, traceparent: null } };
    const added = await insertBankItems(ctx, job.bankId, kept.map(({ item, key, tags, difficulty }) => ({ item, key, tags, difficulty })), { status: "draft", origin: "generated", generationJobId: job.id });
    // The items were checked with the same itemProblems, so the batch is never refused here.
    if (!added.ok) throw new Error(`generated items refused after their check: ${added.error.detail ?? added.error.code}`);
    await tx
      .update(generationJobs)
      .set({
        progress,
        discarded: sql`${generationJobs.discarded} || ${JSON.stringify(discarded)}::jsonb`,
        calls: sql`${generationJobs.calls} + 1`,
        updatedAt: w.now(),
      })
      .where(eq(generationJobs.id, job.id));
    return true;
  });
}

async function finish(w: GenerationWorker, jobId: string, token: Date, end: { status: "succeeded" | "failed"; error: string | null; calls?: number; faults?: number }): Promise<GenerationOutcome> {
  const now = w.now();
  const [done] = await w.db
    .update(generationJobs)
    .set({
      status: end.status,
      error: end.error,
      finishedAt: now,
      updatedAt: now,
      ...(end.calls ? { calls: sql`${generationJobs.calls} + ${end.calls}` } : {}),
      ...(end.faults ? { faults: sql`${generationJobs.faults} + ${end.faults}` } : {}),
    })
    .where(held(jobId, token))
    .returning({ id: generationJobs.id });
  return done ? { kind: "finished", status: end.status } : { kind: "skipped", reason: "the job was taken over" };
}

/**
 * Jobs queued whose time came more than a while ago (`before`): their message was lost (the send after the start's
 * commit failed, or it was dead-lettered after repeated faults). Failed jobs and jobs at their fault limit are not
 * among them. At most `limit`, oldest first.
 */
export async function generationJobsLeftQueued(db: Executor, before: Date, limit = 100): Promise<{ id: string; notBefore: Date | null }[]> {
  return db
    .select({ id: generationJobs.id, notBefore: generationJobs.notBefore })
    .from(generationJobs)
    .where(and(eq(generationJobs.status, "queued"), lt(generationJobs.faults, MAX_GENERATION_FAULTS), sql`coalesce(${generationJobs.notBefore}, ${generationJobs.updatedAt}) < ${before.toISOString()}::timestamptz`))
    .orderBy(generationJobs.createdAt)
    .limit(limit);
}

async function sourceText(w: GenerationWorker, job: GenerationJobRow): Promise<string | null> {
  if (job.source.kind === "document") return (await w.documentText(job.source))?.trim() || null;
  return lessonText(w.db, job.source.lessonId);
}

async function lessonText(db: Executor, lessonId: string): Promise<string | null> {
  const [lesson] = await db.select({ title: lessons.title, body: lessons.body }).from(lessons).where(eq(lessons.id, lessonId));
  if (!lesson?.body?.trim()) return null;
  return `# ${lesson.title}\n\n${lesson.body}`;
}
