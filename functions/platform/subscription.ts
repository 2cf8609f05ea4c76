import { app, type FunctionInput, type InvocationContext } from "@azure/functions";
import type { Transaction } from "../../domain/db/client.js";
import { eventCatalog, type EventEnvelope, eventEnvelopeSchema, type EventType } from "../../domain/events/catalog.js";
import { firstDelivery, recordRejection, rejectionReason } from "../../domain/outbox/inbox.js";
import type { DomainContext } from "../../domain/shared/context.js";
import { createLogger, type Logger } from "./log.js";
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

export interface SubscriptionSpec {
  /** The function's name, for its reaction: `emails-on-event`. */
  name: string;
  subscription: string;
  /** Extra input bindings the handler reads through `ctx.invocation` (e.g. `df.input.durableClient()`). */
  extraInputs?: FunctionInput[];
  /** Runs once per event, in the transaction that records the event in the inbox. Throw to retry. */
  handle(event: EventEnvelope & { type: EventType }, ctx: HandlerContext): Promise<void>;
}

/** A message that is not a valid event: it cannot get better by retrying. */
export class PoisonMessage extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "PoisonMessage";
  }
}

function parseEvent(body: unknown): EventEnvelope & { type: EventType } {
  const raw = typeof body === "string" || Buffer.isBuffer(body) ? safeJson(String(body)) : body;
  const envelope = eventEnvelopeSchema.safeParse(raw);
  if (!envelope.success) throw new PoisonMessage(`not an event envelope: ${envelope.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const schema = eventCatalog[envelope.data.type as EventType];
  if (!schema) throw new PoisonMessage(`unknown event type ${envelope.data.type}`);
  const data = schema.safeParse(envelope.data.data);
  if (!data.success) throw new PoisonMessage(`invalid ${envelope.data.type} data: ${data.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return { ...envelope.data, type: envelope.data.type as EventType, data: data.data };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Registers a worker on a `lms-events` subscription. Every handler runs through here: the event is
 * validated against the catalog; `(subscription, messageId)` goes into the inbox in the same transaction
 * as the handler's writes, so a redelivered message has no second effect; a transient fault is thrown (the
 * host abandons the message and retries it, dead-lettering it at the max delivery count). A message that
 * is not a valid event is kept with its reason and thrown at once on every delivery, so it reaches the
 * dead letters quickly without running any handler code.
 */
export function subscriptionHandler(spec: SubscriptionSpec): void {
  app.serviceBusTopic(spec.name, {
    connection: SERVICE_BUS_CONNECTION,
    topicName: "%SERVICEBUS_TOPIC%",
    subscriptionName: spec.subscription,
    ...(spec.extraInputs ? { extraInputs: spec.extraInputs } : {}),
    handler: async (message: unknown, context: InvocationContext) => {
      const p = platform();
      const meta = context.triggerMetadata ?? {};
      const messageId = String(meta.messageId ?? context.invocationId);
      const deliveryCount = Number(meta.deliveryCount ?? 1);
      const base = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { subscription: spec.subscription, messageId, deliveryCount } });
      // Only a redelivery can have been refused before: the first delivery skips the lookup.
      const known = deliveryCount > 1 ? await rejectionReason(p.database.db, spec.subscription, messageId) : null;
      if (known) throw new PoisonMessage(known);
      let event;
      try {
        event = parseEvent(message);
      } catch (err) {
        if (err instanceof PoisonMessage) {
          base.error("rejected message", { reason: err.message });
          await recordRejection(p.database.db, spec.subscription, messageId, err.message, p.clock());
        }
        throw err;
      }
      const trace = childTrace(parseTraceparent(event.traceparent));
      const log = base.with({ eventType: event.type, traceparent: trace.traceparent, requestId: event.actor?.requestId });
      let eventsRecorded = false;
      const afterCommit: (() => Promise<void>)[] = [];
      const handled = await p.database.db.transaction(async (tx) => {
        // Keyed by the event id, not the message id: a replayed copy (new message id) still has one effect.
        if (!(await firstDelivery(tx, spec.subscription, event.id, event.type, p.clock()))) return false;
        const domain: DomainContext = {
          db: tx,
          now: p.clock,
          newId: p.newId,
          actor: { userId: event.actor?.userId ?? null, requestId: event.actor?.requestId ?? null, clientIp: null, traceparent: trace.traceparent },
          onEventRecorded: () => {
            eventsRecorded = true;
          },
        };
        await spec.handle(event, { tx, domain, log, platform: p, deliveryCount, afterCommit: (fn) => afterCommit.push(fn), invocation: context });
        return true;
      });
      if (!handled) log.info("duplicate delivery ignored");
      for (const fn of afterCommit) await fn().catch((err: unknown) => log.warn("after-commit step failed", { err }));
      if (eventsRecorded) await p.relay.publishPending({ maxBatches: 5, log });
    },
  });
}
