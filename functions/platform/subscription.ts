import { app, type FunctionInput, type InvocationContext } from "@azure/functions";
import type { Transaction } from "../../domain/db/client.js";
import { type CatalogEvent, eventCatalog, type EventEnvelope, eventEnvelopeSchema, type EventType } from "../../domain/events/catalog.js";
import { firstDeliveries, recordRejection, rejectionReasons } from "../../domain/outbox/inbox.js";
import type { DomainContext } from "../../domain/shared/context.js";
import { classifyDependencyError } from "./http/dependency-errors.js";
import { createLogger, type Logger } from "./log.js";
import { deadLetterByLockToken, safeJson } from "./service-bus.js";
import { AfterCommit, domainContext } from "./unit-of-work.js";
import { type Platform, platform } from "./platform.js";
import { childTrace, parseTraceparent } from "./trace-context.js";

export const SERVICE_BUS_CONNECTION = "ServiceBusConnection";

export interface HandlerContext {
  tx: Transaction;
  /** For domain operations: the transaction, the clock, ids, and the actor and trace of the event. */
  domain: DomainContext;
  log: Logger;
  platform: Platform;
  deliveryCount: number;
  /** Work to do once the handler's writes are committed (network calls that must not hold the transaction). */
  afterCommit(fn: () => Promise<void>): void;
  /** The Functions invocation, for extra input bindings (e.g. the durable client). */
  invocation: InvocationContext;
}

/** What a batch handler gets: the batch's transaction, a domain context per event, and the shared pipeline parts. */
export interface BatchHandlerContext {
  tx: Transaction;
  /** The domain context for one event of the batch (its actor and trace). */
  domain(event: EventEnvelope): DomainContext;
  log: Logger;
  platform: Platform;
  afterCommit(fn: () => Promise<void>): void;
  invocation: InvocationContext;
}

interface SubscriptionBase {
  /** The function's name, for its reaction: `emails-on-event`. */
  name: string;
  subscription: string;
  /** Extra input bindings the handler reads through `ctx.invocation` (e.g. `df.input.durableClient()`). */
  extraInputs?: FunctionInput[];
}

export type SubscriptionSpec = SubscriptionBase &
  (
    | {
        /** Runs once per event, in the transaction that records the event in the inbox. Throw to retry. */
        handle(event: CatalogEvent, ctx: HandlerContext): Promise<void>;
      }
    | {
        /**
         * Runs once per batch with the events seen for the first time, in the transaction that records them in
         * the inbox (after a failure, once per event). For work that is cheaper in bulk. Throw to retry.
         */
        handleMany(events: CatalogEvent[], ctx: BatchHandlerContext): Promise<void>;
      }
  );

/** A message that is not a valid event: it cannot get better by retrying. */
export class PoisonMessage extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "PoisonMessage";
  }
}

function parseEvent(body: unknown): CatalogEvent {
  const raw = typeof body === "string" || Buffer.isBuffer(body) ? safeJson(String(body)) : body;
  const envelope = eventEnvelopeSchema.safeParse(raw);
  if (!envelope.success) throw new PoisonMessage(`not an event envelope: ${envelope.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  // Own keys only: a type such as "constructor" would otherwise find Object's and fail as a bug, not as poison.
  const schema = Object.hasOwn(eventCatalog, envelope.data.type) ? eventCatalog[envelope.data.type as EventType] : undefined;
  if (!schema) throw new PoisonMessage(`unknown event type ${envelope.data.type}`);
  const data = schema.safeParse(envelope.data.data);
  if (!data.success) throw new PoisonMessage(`invalid ${envelope.data.type} data: ${data.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  // The data passed its type's schema, so the pair is a member of the union; TypeScript cannot follow that
  // through the lookup by a runtime key. The one assertion here spares every handler its own.
  return { ...envelope.data, type: envelope.data.type as EventType, data: data.data } as CatalogEvent;
}

/** One message of a delivered batch, with the extension's per-message metadata. */
interface Delivery {
  body: unknown;
  messageId: string;
  deliveryCount: number;
  lockToken: string | undefined;
}

type Parsed = { delivery: Delivery; event: CatalogEvent };

/** The batch's per-message metadata arrays (`messageIdArray`, ...), as the Service Bus extension gives them. */
function deliveriesOf(messages: unknown, context: InvocationContext): Delivery[] {
  const bodies = Array.isArray(messages) ? (messages as unknown[]) : [messages];
  const meta = context.triggerMetadata ?? {};
  const column = (name: string): unknown[] => (Array.isArray(meta[`${name}Array`]) ? (meta[`${name}Array`] as unknown[]) : [meta[name]]);
  const [ids, counts, locks] = [column("messageId"), column("deliveryCount"), column("lockToken")];
  return bodies.map((body, i) => ({
    body,
    messageId: ids[i] == null ? `${context.invocationId}:${i}` : String(ids[i]),
    deliveryCount: Number(counts[i] ?? 1) || 1,
    lockToken: locks[i] == null ? undefined : String(locks[i]),
  }));
}

/**
 * Registers a worker on a `lms-events` subscription, taking messages in batches (`cardinality: "many"`).
 * Every event is validated against the catalog; `(subscription, event id)` goes into the inbox in the same
 * transaction as the handler's writes, so a redelivered (or replayed) event has no second effect.
 *
 * A batch is first tried in ONE transaction: one inbox insert for all its events, then each new event's
 * handler in turn. If any handler throws, that transaction rolls back whole and each event is retried in a
 * transaction of its own, so one failing event never undoes its neighbours. Events that still fail make the
 * invocation throw: the host abandons the batch, and on redelivery the neighbours that did commit are
 * skipped by the inbox (the failing one reaches the dead letters at the max delivery count).
 *
 * A message that is not a valid event (poison) is recorded with its reason and dead-lettered on its own, by
 * lock token, without running any handler code and without failing the rest of the batch.
 */
export function subscriptionHandler(spec: SubscriptionSpec): void {
  app.serviceBusTopic(spec.name, {
    connection: SERVICE_BUS_CONNECTION,
    topicName: "%SERVICEBUS_TOPIC%",
    subscriptionName: spec.subscription,
    cardinality: "many",
    ...(spec.extraInputs ? { extraInputs: spec.extraInputs } : {}),
    handler: async (messages: unknown, context: InvocationContext) => {
      const p = platform();
      const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { subscription: spec.subscription } });
      const deliveries = deliveriesOf(messages, context);
      try {
        await handleDeliveries(p, spec, deliveries, context, log);
      } catch (err) {
        await holdWhileUnavailable(err, deliveries, log);
        throw err;
      }
    },
  });
}

// Waits before a retry after a dependency outage: 1 s after the first delivery, doubling, at most a minute.
const UNAVAILABLE_BACKOFF_MS = { first: 1_000, max: 60_000 };

/**
 * Service Bus redelivers an abandoned message at once, so a batch failing because PostgreSQL, Blob Storage or
 * Cosmos DB is down would spend its deliveries within seconds and land in the dead letters. Holding the failed
 * batch (its locks are renewed meanwhile, maxAutoLockRenewalDuration) before throwing spreads the deliveries
 * over minutes: with 10 of them, an outage of about four minutes is waited out before anything is dead-lettered.
 */
async function holdWhileUnavailable(err: unknown, deliveries: Delivery[], log: Logger): Promise<void> {
  const fault = classifyDependencyError(err);
  if (fault?.kind !== "unavailable") return;
  const attempt = Math.max(1, ...deliveries.map((d) => d.deliveryCount));
  const waitMs = Math.min(UNAVAILABLE_BACKOFF_MS.first * 2 ** (attempt - 1), UNAVAILABLE_BACKOFF_MS.max);
  log.warn("dependency unavailable; the batch is retried after a pause", { dependency: fault.dependency, deliveryCount: attempt, waitMs, err });
  await new Promise((resolve) => setTimeout(resolve, waitMs));
}

async function handleDeliveries(p: Platform, spec: SubscriptionSpec, deliveries: Delivery[], context: InvocationContext, log: Logger): Promise<void> {
  // Only a redelivery can have been refused before: a first delivery skips the lookup.
  const redelivered = deliveries.filter((d) => d.deliveryCount > 1).map((d) => d.messageId);
  const refused = await rejectionReasons(p.database.db, spec.subscription, redelivered);
  const events: Parsed[] = [];
  const poison: { delivery: Delivery; reason: string; known: boolean }[] = [];
  for (const delivery of deliveries) {
    const known = refused.get(delivery.messageId);
    if (known !== undefined) {
      poison.push({ delivery, reason: known, known: true });
      continue;
    }
    try {
      events.push({ delivery, event: parseEvent(delivery.body) });
    } catch (err) {
      if (!(err instanceof PoisonMessage)) throw err;
      poison.push({ delivery, reason: err.message, known: false });
    }
  }
  const poisonLeft = await settlePoison(p, spec, poison, log);

  const failed = events.length === 0 ? [] : await handleBatch(p, spec, events, context, log);
  if (failed.length > 0) {
    throw new Error(`${failed.length} of ${deliveries.length} events failed (${failed.map((f) => f.event.id).join(", ")}); the batch is retried, handled events are skipped by the inbox`, { cause: failed[0]?.error });
  }
  if (poisonLeft.length > 0) throw new PoisonMessage(poisonLeft.map((x) => x.reason).join("; "));
}

/**
 * Records each poison message's reason and dead-letters it by lock token. What could not be dead-lettered
 * here (no lock token, e.g. an admin invocation, or the settle failed) is returned: the caller throws for
 * it, so the host's own delivery count takes it to the dead letters.
 */
async function settlePoison(p: Platform, spec: SubscriptionSpec, poison: { delivery: Delivery; reason: string; known: boolean }[], log: Logger) {
  const left: typeof poison = [];
  for (const item of poison) {
    const { delivery, reason } = item;
    if (!item.known) {
      log.error("rejected message", { messageId: delivery.messageId, deliveryCount: delivery.deliveryCount, reason });
      await recordRejection(p.database.db, spec.subscription, delivery.messageId, reason, p.clock());
    }
    if (!delivery.lockToken) {
      left.push(item);
      continue;
    }
    try {
      await deadLetterByLockToken(
        p.serviceBus(),
        { topic: p.settings.SERVICEBUS_TOPIC, subscription: spec.subscription },
        { lockToken: delivery.lockToken, messageId: delivery.messageId },
        { deadLetterReason: "PoisonMessage", deadLetterErrorDescription: reason.slice(0, 1000) },
      );
    } catch (err) {
      log.warn("dead-lettering a poison message by lock token failed; it is retried with its batch", { messageId: delivery.messageId, err });
      left.push(item);
    }
  }
  return left;
}

/** Handles a batch's events: all in one transaction, or (after a failure) each in its own. Returns the failures. */
async function handleBatch(p: Platform, spec: SubscriptionSpec, events: Parsed[], invocation: InvocationContext, log: Logger) {
  const contextFor = (parsed: Parsed, tx: Transaction, effects: AfterCommit): HandlerContext => {
    const { event, delivery } = parsed;
    const trace = childTrace(parseTraceparent(event.traceparent));
    return {
      tx,
      domain: domainContext(p, tx, { userId: event.actor?.userId ?? null, requestId: event.actor?.requestId ?? null, traceparent: trace.traceparent }, effects),
      log: log.with({ messageId: delivery.messageId, deliveryCount: delivery.deliveryCount, eventType: event.type, traceparent: trace.traceparent, requestId: event.actor?.requestId }),
      platform: p,
      deliveryCount: delivery.deliveryCount,
      afterCommit: effects.add,
      invocation,
    };
  };
  const entries = (list: Parsed[]) => list.map((e) => ({ id: e.event.id, type: e.event.type }));

  /** The new events' handling, in the transaction that recorded them in the inbox. */
  const run = async (fresh: Parsed[], tx: Transaction, effects: AfterCommit) => {
    if ("handleMany" in spec) {
      if (fresh.length === 0) return;
      const byEvent = new Map(fresh.map((f) => [f.event, f]));
      await spec.handleMany(
        fresh.map((f) => f.event),
        {
          tx,
          domain: (event) => {
            const parsed = byEvent.get(event as Parsed["event"]);
            return parsed ? contextFor(parsed, tx, effects).domain : domainContext(p, tx, {}, effects);
          },
          log,
          platform: p,
          afterCommit: effects.add,
          invocation,
        },
      );
    } else {
      for (const parsed of fresh) await spec.handle(parsed.event, contextFor(parsed, tx, effects));
    }
  };

  const together = new AfterCommit();
  try {
    await p.database.db.transaction(async (tx) => {
      // Keyed by the event id, not the message id: a replayed copy (new message id) still has one effect.
      const ids = await firstDeliveries(tx, spec.subscription, entries(events), p.clock());
      await run(events.filter((e) => ids.delete(e.event.id)), tx, together);
    });
    await together.run(p, log);
    return [];
  } catch (err) {
    if (events.length === 1) return [{ event: events[0]?.event as Parsed["event"], error: err }];
    log.warn("batch transaction failed; handling its events one by one", { events: events.length, err });
  }

  const failed: { event: Parsed["event"]; error: unknown }[] = [];
  for (const parsed of events) {
    const alone = new AfterCommit();
    try {
      await p.database.db.transaction(async (tx) => {
        if ((await firstDeliveries(tx, spec.subscription, entries([parsed]), p.clock())).size === 0) return;
        await run([parsed], tx, alone);
      });
      await alone.run(p, log);
    } catch (error) {
      failed.push({ event: parsed.event, error });
    }
  }
  return failed;
}
