import { RetryMode, ServiceBusClient, type ServiceBusReceivedMessage } from "@azure/service-bus";
import { defaultAzureCredential } from "./azure-credential.js";
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
