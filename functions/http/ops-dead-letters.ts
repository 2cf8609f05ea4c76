import type { ServiceBusReceivedMessage } from "@azure/service-bus";
import Long from "long";
import { z } from "zod";
import { rejectionReason } from "../../domain/outbox/inbox.js";
import { adminOnly } from "../platform/http/access.js";
import { route } from "../platform/http/route.js";
import type { Platform } from "../platform/platform.js";

// The subscriptions of docs/architecture.md; each has its dead-letter subqueue.
export const subscriptions = ["emails", "webhooks", "progress", "certificates", "grading", "activity"] as const;

const deadLetterSchema = z
  .object({
    subscription: z.enum(subscriptions),
    messageId: z.string(),
    sequenceNumber: z.string(),
    subject: z.string().nullable(),
    deadLetterReason: z.string().nullable(),
    deadLetterErrorDescription: z.string().nullable(),
    appReason: z.string().nullable().meta({ description: "Why the app refused the message, when it did" }),
    deliveryCount: z.number().int().nullable(),
    enqueuedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: "DeadLetter" });

const deadLetterReceiver = (p: Platform, subscription: string) =>
  p.serviceBus().createReceiver(p.settings.SERVICEBUS_TOPIC, subscription, { subQueueType: "deadLetter", receiveMode: "peekLock" });

async function describe(p: Platform, subscription: (typeof subscriptions)[number], m: ServiceBusReceivedMessage) {
  const messageId = String(m.messageId ?? "");
  return {
    subscription,
    messageId,
    sequenceNumber: m.sequenceNumber?.toString() ?? "",
    subject: m.subject ?? null,
    deadLetterReason: m.deadLetterReason ?? null,
    deadLetterErrorDescription: m.deadLetterErrorDescription ?? null,
    appReason: messageId ? await rejectionReason(p.database.db, subscription, messageId) : null,
    deliveryCount: m.deliveryCount ?? null,
    enqueuedAt: m.enqueuedTimeUtc?.toISOString() ?? null,
  };
}

route({
  name: "ops-dead-letters-list",
  method: "GET",
  path: "/v1/ops/dead-letters",
  access: adminOnly,
  summary: "Dead-lettered messages per subscription, with reason and delivery count",
  tags: ["operations"],
  query: z.object({ subscription: z.enum(subscriptions).optional(), limit: z.coerce.number().int().min(1).max(100).default(50) }),
  responses: { 200: { description: "Dead letters (peeked: nothing is removed)", body: z.object({ items: z.array(deadLetterSchema) }) } },
  handler: async ({ query }, ctx) => {
    const items = [];
    for (const subscription of query.subscription ? [query.subscription] : subscriptions) {
      const receiver = deadLetterReceiver(ctx.platform, subscription);
      try {
        // From the first message every time: the SDK keeps the last peeked sequence number per entity on the shared
        // client, so a plain peek would continue after the previous request's messages and miss them.
        for (const m of await receiver.peekMessages(query.limit, { fromSequenceNumber: Long.ZERO })) items.push(await describe(ctx.platform, subscription, m));
      } finally {
        await receiver.close();
      }
    }
    return { status: 200, body: { items } };
  },
});

const subscriptionParams = z.object({ subscription: z.enum(subscriptions) });

route({
  name: "ops-dead-letters-replay",
  method: "POST",
  path: "/v1/ops/dead-letters/{subscription}/replay",
  access: adminOnly,
  summary: "Send dead-lettered messages of a subscription again (one by `messageId`, or all)",
  description:
    "Each copy goes back to the topic under a new message id; handlers deduplicate by event id, so subscriptions that already handled the event do nothing twice.",
  tags: ["operations"],
  params: subscriptionParams,
  body: z.object({ messageId: z.string().min(1).max(200).optional(), max: z.number().int().min(1).max(1000).default(100) }).optional(),
  responses: { 200: { description: "How many were replayed", body: z.object({ replayed: z.number().int() }) } },
  handler: async ({ params, body }, ctx) => {
    const p = ctx.platform;
    const receiver = deadLetterReceiver(p, params.subscription);
    const sender = p.serviceBus().createSender(p.settings.SERVICEBUS_TOPIC);
    let replayed = 0;
    try {
      const max = body?.max ?? 100;
      while (replayed < max) {
        const batch = await receiver.receiveMessages(Math.min(50, max - replayed), { maxWaitTimeInMs: 500 });
        if (batch.length === 0) break;
        for (const m of batch) {
          if (body?.messageId && String(m.messageId) !== body.messageId) {
            await receiver.abandonMessage(m);
            continue;
          }
          await sender.sendMessages({
            body: m.body,
            messageId: `${String(m.messageId)}:replay:${ctx.requestId}`,
            subject: m.subject,
            contentType: m.contentType,
            applicationProperties: { ...m.applicationProperties, replayOf: String(m.messageId), replayFor: params.subscription },
          });
          await receiver.completeMessage(m);
          replayed += 1;
        }
        if (body?.messageId && replayed > 0) break;
      }
    } finally {
      await Promise.allSettled([receiver.close(), sender.close()]);
    }
    return { status: 200, body: { replayed } };
  },
});

route({
  name: "ops-dead-letters-purge",
  method: "POST",
  path: "/v1/ops/dead-letters/{subscription}/purge",
  access: adminOnly,
  summary: "Delete the dead-lettered messages of a subscription",
  tags: ["operations"],
  params: subscriptionParams,
  responses: { 200: { description: "How many were removed", body: z.object({ purged: z.number().int() }) } },
  handler: async ({ params }, ctx) => {
    const receiver = ctx.platform.serviceBus().createReceiver(ctx.platform.settings.SERVICEBUS_TOPIC, params.subscription, {
      subQueueType: "deadLetter",
      receiveMode: "receiveAndDelete",
    });
    let purged = 0;
    try {
      for (let i = 0; i < 100; i++) {
        const batch = await receiver.receiveMessages(100, { maxWaitTimeInMs: 500 });
        purged += batch.length;
        if (batch.length === 0) break;
      }
    } finally {
      await receiver.close();
    }
    return { status: 200, body: { purged } };
  },
});
