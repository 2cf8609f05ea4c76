import type { ServiceBusClient, ServiceBusMessage, ServiceBusSender } from "@azure/service-bus";
import type { Database } from "../../domain/db/client.js";
import { claimPendingEvents, markPublished, notePublishFailure, type PendingEvent } from "../../domain/outbox/claim-events.js";
import type { Logger } from "./log.js";

export interface RelayStatus {
  /** Until when publishing is paused after a failure (backoff); null when not paused. */
  pausedUntil: Date | null;
  consecutiveFailures: number;
  lastError: string | null;
  lastPublishedAt: Date | null;
}

export interface OutboxRelay {
  /** Publishes committed events until none are left (or `maxBatches`); returns how many were sent. */
  publishPending(options?: { maxBatches?: number; log?: Logger }): Promise<number>;
  /**
   * Asks for a publish pass without waiting for it. Kicks coalesce: while a pass runs, later kicks make one
   * more pass, so a burst of commits shares a few sends instead of each request holding a connection to send.
   */
  kick(log?: Logger): void;
  status(): RelayStatus;
  close(): Promise<void>;
}

/** One Service Bus message per event: messageId = event id (duplicate detection), subject = event type. */
export function toMessage(e: PendingEvent): ServiceBusMessage {
  return {
    messageId: e.envelope.id,
    subject: e.envelope.type,
    contentType: "application/json",
    body: e.envelope,
    applicationProperties: {
      type: e.envelope.type,
      aggregateType: e.aggregateType,
      aggregateId: e.aggregateId,
      ...(e.courseId ? { courseId: e.courseId } : {}),
      // Both names: `traceparent` for our handlers, `Diagnostic-Id` for the Azure SDK's own tracing.
      ...(e.envelope.traceparent ? { traceparent: e.envelope.traceparent, "Diagnostic-Id": e.envelope.traceparent } : {}),
    },
  };
}

const MAX_BACKOFF_MS = 60_000;

/**
 * Publishes the outbox to the topic. Each batch is claimed, sent and marked in one transaction: a crash
 * after sending but before commit re-sends the batch, and Service Bus duplicate detection (messageId =
 * event id) drops the copies. When Service Bus is unreachable the relay backs off exponentially.
 */
export function createOutboxRelay(options: {
  db: Database;
  serviceBus: () => ServiceBusClient;
  topic: string;
  batchSize: number;
  clock: () => Date;
}): OutboxRelay {
  let sender: ServiceBusSender | undefined;
  const state: RelayStatus = { pausedUntil: null, consecutiveFailures: 0, lastError: null, lastPublishedAt: null };
  const getSender = () => (sender ??= options.serviceBus().createSender(options.topic));

  async function publishBatch(): Promise<number> {
    let claimedIds: string[] = [];
    try {
      return await options.db.transaction(async (tx) => {
        const pending = await claimPendingEvents(tx, options.batchSize);
        claimedIds = pending.map((p) => p.envelope.id);
        if (pending.length === 0) return 0;
        const s = getSender();
        let batch = await s.createMessageBatch();
        for (const event of pending) {
          const message = toMessage(event);
          if (!batch.tryAddMessage(message)) {
            await s.sendMessages(batch);
            batch = await s.createMessageBatch();
            if (!batch.tryAddMessage(message)) throw new Error(`event ${event.envelope.id} is larger than a Service Bus message`);
          }
        }
        if (batch.count > 0) await s.sendMessages(batch);
        await markPublished(tx, claimedIds, options.clock());
        return pending.length;
      });
    } catch (err) {
      await notePublishFailure(options.db, claimedIds, (err as Error).message).catch(() => undefined);
      throw err;
    }
  }

  let passes: Promise<void> | undefined;
  let again = false;

  const relay: OutboxRelay = {
    async publishPending({ maxBatches = 100, log } = {}) {
      const now = options.clock();
      if (state.pausedUntil && state.pausedUntil > now) return 0;
      let total = 0;
      try {
        for (let i = 0; i < maxBatches; i++) {
          const sent = await publishBatch();
          total += sent;
          if (sent < options.batchSize) break;
        }
        if (total > 0) state.lastPublishedAt = options.clock();
        state.consecutiveFailures = 0;
        state.pausedUntil = null;
        state.lastError = null;
      } catch (err) {
        state.consecutiveFailures += 1;
        state.lastError = (err as Error).message;
        const backoff = Math.min(1000 * 2 ** (state.consecutiveFailures - 1), MAX_BACKOFF_MS);
        state.pausedUntil = new Date(options.clock().getTime() + backoff);
        // A broken link is rebuilt on the next attempt.
        await sender?.close().catch(() => undefined);
        sender = undefined;
        log?.warn("outbox publish failed; backing off", { err, backoffMs: backoff, published: total });
      }
      return total;
    },
    kick(log) {
      if (passes) {
        again = true;
        return;
      }
      passes = (async () => {
        do {
          again = false;
          await relay.publishPending({ maxBatches: 20, ...(log ? { log } : {}) });
        } while (again && !(state.pausedUntil && state.pausedUntil > options.clock()));
      })().finally(() => {
        passes = undefined;
      });
    },
    status: () => ({ ...state }),
    async close() {
      await passes;
      await sender?.close().catch(() => undefined);
    },
  };
  return relay;
}
