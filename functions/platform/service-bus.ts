import type { InvocationContext } from "@azure/functions";
import { RetryMode, ServiceBusClient, type ServiceBusMessage, type ServiceBusReceivedMessage } from "@azure/service-bus";
import type { z } from "zod";
import { defaultAzureCredential } from "./azure-credential.js";
import type { Logger } from "./log.js";
import type { Settings } from "./settings.js";

/** A connection string locally (the local broker), the namespace with the managed identity in Azure. */
export function openServiceBus(s: Settings): ServiceBusClient {
  // The SDK waits a fixed 30 s between tries by default: the relay would hold its claimed outbox rows (and a
  // request its answer) that long. Short exponential waits; what still fails is retried by the relay's backoff.
  const options = { retryOptions: { mode: RetryMode.Exponential, maxRetries: 2, retryDelayInMs: 500, maxRetryDelayInMs: 5_000, timeoutInMs: 10_000 } };
  if (s.ServiceBusConnection) return new ServiceBusClient(s.ServiceBusConnection, options);
  if (!s.ServiceBusConnection__fullyQualifiedNamespace) throw new Error("Service Bus settings were not validated");
  const credential = defaultAzureCredential(s.ServiceBusConnection__clientId);
  return new ServiceBusClient(s.ServiceBusConnection__fullyQualifiedNamespace, credential, options);
}

/**
 * Dead-letters one message of a batch by its lock token, through this instance's own client. Service Bus
 * settles by lock token on the entity's management link (`com.microsoft:update-disposition`) when the
 * settling client is not the one whose link received the message (the SDK takes that path for a message
 * without a receive link, as for deferred messages). The host then finds the message gone when it completes
 * the rest of the batch.
 */
export async function deadLetterByLockToken(
  client: ServiceBusClient,
  entity: { topic: string; subscription: string } | { queue: string },
  message: { lockToken: string; messageId: string },
  reason: { deadLetterReason: string; deadLetterErrorDescription: string },
): Promise<void> {
  const receiver = "queue" in entity ? client.createReceiver(entity.queue, { receiveMode: "peekLock" }) : client.createReceiver(entity.topic, entity.subscription, { receiveMode: "peekLock" });
  try {
    const settleable = { lockToken: message.lockToken, messageId: message.messageId, body: null, delivery: {}, applicationProperties: {} };
    await receiver.deadLetterMessage(settleable as unknown as ServiceBusReceivedMessage, reason);
  } finally {
    await receiver.close().catch(() => undefined);
  }
}

/** A message body's JSON, or the text itself when it is not JSON (the schema reading it then refuses it). */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * A queue trigger's message read by its schema. One that does not fit is poison: it is dead-lettered by its lock
 * token and the answer is null (the handler returns; retrying would never help); without a lock token it is thrown.
 */
export async function parseQueueMessage<S extends z.ZodType>(
  message: unknown,
  schema: S,
  at: { queue: string; what: string; serviceBus(): ServiceBusClient; context: InvocationContext; log: Logger },
): Promise<z.output<S> | null> {
  const parsed = schema.safeParse(typeof message === "string" ? safeJson(message) : message);
  if (parsed.success) return parsed.data;
  const reason = `not ${at.what}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`;
  const lockToken = at.context.triggerMetadata?.lockToken;
  at.log.error("rejected message", { messageId: at.context.triggerMetadata?.messageId, reason });
  if (typeof lockToken !== "string") throw new Error(reason);
  await deadLetterByLockToken(at.serviceBus(), { queue: at.queue }, { lockToken, messageId: String(at.context.triggerMetadata?.messageId ?? "") }, { deadLetterReason: "PoisonMessage", deadLetterErrorDescription: reason.slice(0, 1000) });
  return null;
}

/** Sends one message to a queue through a sender of its own, closed whatever happens. */
export async function sendToQueue(client: ServiceBusClient, queue: string, message: ServiceBusMessage): Promise<void> {
  const sender = client.createSender(queue);
  try {
    await sender.sendMessages(message);
  } finally {
    await sender.close().catch(() => undefined);
  }
}
