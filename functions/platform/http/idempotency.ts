import { createHash } from "node:crypto";
import type { HttpResponseInit } from "@azure/functions";
import { and, eq, lt, sql } from "drizzle-orm";
import type { Transaction } from "../../../domain/db/client.js";
import { idempotencyKeys } from "../../../domain/db/schema/index.js";
import { ProblemError } from "./problem.js";

const KEY = /^[\x21-\x7e]{1,255}$/;

/** The `Idempotency-Key` header, if any; visible ASCII, 1 to 255 characters. */
export function idempotencyKeyOf(header: string | null): string | undefined {
  if (header === null) return undefined;
  if (!KEY.test(header)) {
    throw new ProblemError("INVALID_IDEMPOTENCY_KEY", {
      errors: [{ path: "headers.idempotency-key", message: "must be 1 to 255 visible ASCII characters" }],
    });
  }
  return header;
}

export const requestHash = (method: string, path: string, body: Buffer): string =>
  createHash("sha256").update(method).update("\n").update(path).update("\n").update(body).digest("base64url");

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

export interface IdempotentRequest {
  scope: string;
  key: string;
  hash: string;
  expiresAt: Date;
  now: Date;
}

/**
 * Claims the key inside the caller's transaction. A concurrent request with the same key blocks on the
 * primary key until this transaction ends, then finds the stored response: duplicates never run twice.
 * Returns the stored response to replay, or null when this request holds the claim and must run.
 */
export async function claimIdempotencyKey(tx: Transaction, req: IdempotentRequest): Promise<StoredResponse | null> {
  // Wait for a concurrent holder a bounded time, then tell the client to retry; the bounded wait is for the
  // claim only: the handler's own locks (a busy course) wait as usual. The three statements go out together
  // (pipelined on the transaction's connection): one round trip, not three.
  const bounded = tx.execute(sql`set local lock_timeout = '5s'`);
  const insert = tx
    .insert(idempotencyKeys)
    .values({ scope: req.scope, key: req.key, requestHash: req.hash, statusCode: 0, responseHeaders: {}, expiresAt: req.expiresAt })
    .onConflictDoUpdate({
      target: [idempotencyKeys.scope, idempotencyKeys.key],
      // An expired record no longer protects anything: the key starts afresh.
      set: { requestHash: req.hash, statusCode: 0, responseHeaders: {}, responseBody: null, createdAt: req.now, expiresAt: req.expiresAt },
      setWhere: lt(idempotencyKeys.expiresAt, req.now),
    })
    .returning({ key: idempotencyKeys.key });
  const unbounded = tx.execute(sql`set local lock_timeout = 0`);
  const settled = await Promise.allSettled([bounded, insert, unbounded]);
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) {
    // A failed insert fails the reset behind it too ("transaction is aborted"): the insert's reason counts.
    const reason = settled[1].status === "rejected" ? settled[1].reason : failed.reason;
    if (isLockTimeout(reason)) throw new ProblemError("IDEMPOTENCY_KEY_IN_USE", { headers: { "retry-after": "1" } });
    throw reason;
  }
  const claimed = (settled[1] as PromiseFulfilledResult<{ key: string }[]>).value;
  if (claimed.length > 0) return null;

  const [stored] = await tx
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, req.scope), eq(idempotencyKeys.key, req.key)));
  if (!stored) throw new Error("idempotency record vanished while claimed");
  if (stored.requestHash !== req.hash) {
    throw new ProblemError("IDEMPOTENCY_KEY_REUSED", { detail: "Use a new Idempotency-Key for a different request." });
  }
  return { status: stored.statusCode, headers: stored.responseHeaders, body: stored.responseBody };
}

export async function completeIdempotencyKey(tx: Transaction, req: IdempotentRequest, response: StoredResponse): Promise<void> {
  await tx
    .update(idempotencyKeys)
    .set({ statusCode: response.status, responseHeaders: response.headers, responseBody: response.body })
    .where(and(eq(idempotencyKeys.scope, req.scope), eq(idempotencyKeys.key, req.key)));
}

export const replay = (stored: StoredResponse): HttpResponseInit => ({
  status: stored.status,
  headers: { ...stored.headers, "idempotent-replayed": "true" },
  ...(stored.body === null ? {} : { body: stored.body }),
});

function isLockTimeout(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } }).cause;
  return (err as { code?: string }).code === "55P03" || cause?.code === "55P03";
}
