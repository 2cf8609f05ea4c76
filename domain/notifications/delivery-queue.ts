import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Executor } from "../db/client.js";
import { forEachBounded } from "../shared/bounded.js";

/**
 * What email and channel (SMS, push) deliveries share: rows recorded pending in the caller's transaction, then
 * claimed (a lease on `next_attempt_at`), sent outside any transaction and their outcome recorded, with an
 * exponential backoff for failures. Each kind keeps its own table and its own idea of a sent row.
 */
export interface RetryPolicy {
  maxAttempts: number;
  /** First wait after a failure; each further failure doubles it, up to maxDelaySeconds. */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
}

export interface SendPolicy extends RetryPolicy {
  /** How long a claim holds a row: no other sender takes it meanwhile. Sends must finish well within it. */
  leaseSeconds: number;
  /** Sends in flight at once for one sender. */
  concurrency: number;
}

/** A delivery table: the columns the queue reads and writes. */
export type QueueTable = PgTable & { id: PgColumn; status: PgColumn; nextAttemptAt: PgColumn; attempts: PgColumn; updatedAt: PgColumn };

// Rows a sender claims per worker at a time: few enough that the last of them is sent well within its lease.
const CLAIM_PER_WORKER = 5;

/**
 * Claims pending rows that are due (all of them, or among `ids`), oldest first: one statement pushes their next
 * attempt out by the lease and returns them. Rows another claimer has locked are skipped, and a claimed row is
 * not due again until its lease ends, so two senders never send the same row.
 */
export async function claimDue<T extends QueueTable>(db: Executor, t: T, now: Date, options: { leaseSeconds: number; limit: number; ids?: string[] | undefined }): Promise<T["$inferSelect"][]> {
  if (options.ids?.length === 0) return [];
  const due = db
    .select({ id: t.id })
    .from(t as PgTable)
    .where(and(eq(t.status, "pending"), lte(t.nextAttemptAt, now), options.ids ? inArray(t.id, options.ids) : undefined))
    .orderBy(asc(t.nextAttemptAt))
    .limit(options.limit)
    .for("update", { skipLocked: true });
  const lease = { nextAttemptAt: new Date(now.getTime() + options.leaseSeconds * 1000), updatedAt: now };
  // The generic table loses drizzle's column typing; the two columns set are the QueueTable's own.
  return (await db
    .update(t as PgTable)
    .set(lease as never)
    .where(inArray(t.id, due))
    .returning()) as T["$inferSelect"][];
}

/**
 * The changes of a failed attempt: one more attempt, then due again after an exponential backoff (from the
 * attempts stored; at least `notBeforeSeconds`, a service's Retry-After), or `failed` at maxAttempts.
 */
export function failedAttempt(t: QueueTable, error: string, now: Date, policy: RetryPolicy, notBeforeSeconds = 0) {
  const attempts = sql`${t.attempts} + 1`;
  const givesUp = sql`${attempts} >= ${policy.maxAttempts}`;
  const delaySeconds = sql`greatest(least(${policy.baseDelaySeconds}::float8 * power(2, ${t.attempts}), ${policy.maxDelaySeconds}::float8), ${notBeforeSeconds}::float8)`;
  return {
    attempts,
    status: sql<"failed" | "pending">`case when ${givesUp} then 'failed' else 'pending' end`,
    lastError: error.slice(0, 1000),
    nextAttemptAt: sql<Date | null>`case when ${givesUp} then null else ${now.toISOString()}::timestamptz + make_interval(secs => ${delaySeconds}) end`,
    updatedAt: now,
  };
}

/** One claimed row's attempt, for the caller to log. */
export interface AttemptOutcome<Row, Status> {
  delivery: Row;
  /** What the row became; null when it was not recorded (no longer pending, or `recordError`). */
  status: Status | null;
  attempts: number | null;
  nextAttemptAt: Date | null;
  /** Why the send failed. */
  error: string | null;
  /** The send's outcome could not be written; the row stays pending and is sent again after its lease. */
  recordError?: unknown;
}

type Recorded<Status> = { status: Status; attempts: number; nextAttemptAt: Date | null } | null;

/** How one kind of delivery is claimed, sent and recorded. */
export interface DeliveryKind<Row, Result extends { ok: boolean; error?: string }, Status> {
  claim(limit: number, ids: string[] | undefined): Promise<Row[]>;
  /** Sends one row; a thrown error is a failed attempt. */
  send(row: Row): Promise<Result>;
  record(row: Row, result: Result): Promise<Recorded<Status>>;
}

/** Sends claimed rows outside any transaction, `concurrency` at a time, and records each outcome as it comes. */
async function sendClaimed<Row, Result extends { ok: boolean; error?: string }, Status>(
  kind: Pick<DeliveryKind<Row, Result, Status>, "send" | "record">,
  rows: Row[],
  concurrency: number,
  failure: (error: string) => Result,
): Promise<AttemptOutcome<Row, Status>[]> {
  const outcomes: AttemptOutcome<Row, Status>[] = [];
  await forEachBounded(rows, concurrency, async (delivery) => {
    let result: Result;
    try {
      result = await kind.send(delivery);
    } catch (err) {
      result = failure(err instanceof Error ? err.message : String(err));
    }
    const error = result.ok ? null : (result.error ?? "failed");
    try {
      const recorded = await kind.record(delivery, result);
      outcomes.push({ delivery, status: recorded?.status ?? null, attempts: recorded?.attempts ?? null, nextAttemptAt: recorded?.nextAttemptAt ?? null, error });
    } catch (recordError) {
      outcomes.push({ delivery, status: null, attempts: null, nextAttemptAt: null, error, recordError });
    }
  });
  return outcomes;
}

/**
 * Which due rows to send: among `ids` (else all), for at most `maxRounds` claims, or (`timeBudgetMs`, no
 * `maxRounds`) claim after claim until that much time has gone: a backlog (quiet hours ending for a whole course)
 * is worked through in one run, not a few hundred rows a minute.
 */
export interface DueScope {
  ids?: string[];
  maxRounds?: number;
  timeBudgetMs?: number;
}

/**
 * Claims what is due and sends it, a claim of a few rows per worker at a time, until nothing is due or the
 * scope's rounds or time are used up. With `ids` (what a handler just recorded) only those rows are considered. Both the
 * after-commit step and the retry timers send through here.
 */
export async function sendDue<Row, Result extends { ok: boolean; error?: string }, Status>(
  kind: DeliveryKind<Row, Result, Status>,
  concurrency: number,
  failure: (error: string) => Result,
  scope: DueScope,
): Promise<AttemptOutcome<Row, Status>[]> {
  const limit = Math.max(1, concurrency) * CLAIM_PER_WORKER;
  const maxRounds = scope.maxRounds ?? (scope.timeBudgetMs !== undefined ? Infinity : scope.ids ? Math.ceil(scope.ids.length / limit) : 1);
  const started = performance.now();
  const outcomes: AttemptOutcome<Row, Status>[] = [];
  for (let round = 0; round < maxRounds; round++) {
    const claimed = await kind.claim(limit, scope.ids);
    outcomes.push(...(await sendClaimed(kind, claimed, concurrency, failure)));
    // A short claim took everything that was due (what others hold is theirs).
    if (claimed.length < limit) break;
    if (scope.timeBudgetMs !== undefined && performance.now() - started >= scope.timeBudgetMs) break;
  }
  return outcomes;
}
