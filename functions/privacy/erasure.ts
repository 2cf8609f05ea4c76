import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { eraseWhenDue } from "../../domain/privacy/erasure-requests.js";
import { onDomainPool } from "../platform/domain-transaction.js";
import { platform } from "../platform/platform.js";
import { erasureKeys } from "../platform/erasure-keys.js";

/** One instance per request: a request cancelled and a newer one of the same user never share a timer. */
export const erasureInstanceId = (erasureId: string) => `erasure-${erasureId}`;
export const ERASURE_CANCELLED_EVENT = "ErasureCancelled";
export const ERASURE_ORCHESTRATION = "userErasure";

export interface ErasureInput {
  erasureId: string;
  dueAt: string;
}

// Blob, Cosmos or PostgreSQL may be briefly away: the erasure is idempotent, so it is simply tried again.
const retry = new df.RetryOptions(5_000, 6);
retry.backoffCoefficient = 2;

const eraseDue = df.app.activity("erasure-erase-when-due", {
  handler: async (erasureId: string) => {
    const p = platform();
    // On the pool: the files are deleted outside any transaction, the database part in its own.
    return onDomainPool(p, {}, (ctx) => eraseWhenDue(ctx, p.files, erasureId, erasureKeys(p.settings)));
  },
});

/**
 * The grace period of a scheduled erasure: a durable timer raced against the cancellation event. The activity reads
 * the request again, so a cancellation whose event was lost still wins. Housekeeping carries out a request past its
 * due time whose timer was never started (the start after the commit is lost if the host stops in between).
 */
const orchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<ErasureInput>();
  context.df.setCustomStatus({ phase: "waiting", dueAt: input.dueAt });
  const due = context.df.createTimer(new Date(input.dueAt));
  const cancelled = context.df.waitForExternalEvent(ERASURE_CANCELLED_EVENT);
  const winner = yield context.df.Task.any([due, cancelled]);
  if (winner === cancelled) {
    if (!due.isCompleted) due.cancel();
    context.df.setCustomStatus({ phase: "cancelled" });
    return { erased: false };
  }
  const outcome: { erased: boolean } = yield eraseDue(input.erasureId).withRetry(retry);
  context.df.setCustomStatus({ phase: outcome.erased ? "erased" : "nothing-to-erase" });
  return outcome;
};

df.app.orchestration(ERASURE_ORCHESTRATION, orchestrator);
