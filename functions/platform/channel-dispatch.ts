import { type ChannelAttemptOutcome, type ChannelSender, sendDueChannelMessages } from "../../domain/notifications/channel-deliveries.js";
import type { DueScope, SendPolicy } from "../../domain/notifications/delivery-queue.js";
import { deliveryBacklog, logAttemptOutcome } from "./delivery-sender.js";
import { emailSendPolicy } from "./email-dispatch.js";
import type { Logger } from "./log.js";
import type { Platform } from "./platform.js";
import { createPushSender } from "./push-sender.js";
import type { Settings } from "./settings.js";
import { createSmsSender } from "./sms-sender.js";

// A failed SMS or push waits at most this long before its next attempt.
const MAX_RETRY_DELAY_S = 3600;

// SMS and push share the email backoff, lease and concurrency; they give up sooner (a late notification is stale).
const channelSendPolicy = (s: Settings): SendPolicy => ({ ...emailSendPolicy(s), maxAttempts: s.CHANNEL_MAX_ATTEMPTS, maxDelaySeconds: MAX_RETRY_DELAY_S });

// The SDK clients, built once per process on first use.
let senders: Pick<ChannelSender, "sms" | "push"> | undefined;

/**
 * Sends recorded SMS and push messages that are due and logs each outcome: after a commit the ones it recorded
 * (`ids`), from the retry timer whatever is due (failures, and messages held until quiet hours ended).
 */
export async function sendRecordedChannelMessages(p: Platform, log: Logger, scope: DueScope): Promise<number> {
  senders ??= { sms: createSmsSender(p.settings), push: createPushSender(p.settings) };
  const outcomes = await sendDueChannelMessages({ db: p.database.db, now: p.clock, ...senders }, channelSendPolicy(p.settings), scope);
  for (const outcome of outcomes) logOutcome(log, outcome);
  return outcomes.length;
}

/** Sends what a unit of work recorded, after its commit, without holding it (one backlog per process). */
export const sendRecordedChannelMessagesSoon = deliveryBacklog("channel-sender", "SMS and push messages", sendRecordedChannelMessages);

function logOutcome(log: Logger, outcome: ChannelAttemptOutcome): void {
  const { delivery } = outcome;
  logAttemptOutcome(log, delivery.channel, { deliveryId: delivery.id, eventId: delivery.eventId, channel: delivery.channel }, outcome);
}
