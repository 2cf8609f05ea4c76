import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type ChannelDeliveryStatus, channelDeliveries, phoneNumbers, type PushPayload, pushSubscriptions, type SmsPayload } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { type AttemptOutcome, claimDue, type DeliveryKind, type DueScope, failedAttempt, type SendPolicy, sendDue } from "./delivery-queue.js";

export type ChannelDeliveryRow = typeof channelDeliveries.$inferSelect;

/**
 * What one send came to. `gone`: the target no longer exists (a push service's 404/410), so the delivery is
 * dropped and the subscription removed; `retryAfterSeconds`: the service asked to wait (429 Retry-After).
 */
export type ChannelSendResult = { ok: true; messageId: string | null } | { ok: false; error: string; gone?: boolean; retryAfterSeconds?: number };

/** Sends one SMS; the domain does not care which service carries it. */
export interface SmsSender {
  send(to: string, text: string): Promise<ChannelSendResult>;
}

/** A push subscription as the push service needs it (RFC 8030 endpoint, RFC 8291 keys). */
export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** Sends one Web Push message, encrypted for the subscription. */
export interface PushSender {
  send(target: PushTarget, payload: PushPayload): Promise<ChannelSendResult>;
}

/** What sending needs: the pool (each outcome commits on its own), the clock, and the senders (sms null: SMS is off). */
export interface ChannelSender {
  db: Executor;
  now(): Date;
  sms: SmsSender | null;
  push: PushSender;
}

/** A claimed row with what it goes to: its push subscription, or whether its number is still the user's. */
export type ClaimedChannelDelivery = ChannelDeliveryRow & { pushTarget: PushTarget | null; smsTargetKnown: boolean };
export type ChannelAttemptOutcome = AttemptOutcome<ClaimedChannelDelivery, ChannelDeliveryStatus>;

/**
 * Records one SMS to send in the caller's transaction (a phone verification code: never an event, so never on
 * Service Bus or a webhook), due now; the id goes to `onChannelMessagesRecorded` to be sent after commit.
 */
export async function recordSms(ctx: DomainContext, input: { userId: string; to: string; text: string; expiresAt?: Date }): Promise<string> {
  const id = ctx.newId();
  const now = ctx.now();
  const payload: SmsPayload = { text: input.text, ...(input.expiresAt ? { expiresAt: input.expiresAt.toISOString() } : {}) };
  // A fresh event id each time: every code is a message of its own.
  await ctx.db.insert(channelDeliveries).values({ id, eventId: ctx.newId(), userId: input.userId, channel: "sms", target: input.to, payload, urgent: true, nextAttemptAt: now, createdAt: now, updatedAt: now });
  ctx.onChannelMessagesRecorded?.([id]);
  return id;
}

/**
 * Claims due rows (see `claimDue`) and reads, in one statement each, the push subscriptions they go to and
 * whether each SMS's number is still its user's (a changed or removed number drops the messages to the old one).
 */
export async function claimDueChannelMessages(db: Executor, now: Date, options: { leaseSeconds: number; limit: number; ids?: string[] | undefined }): Promise<ClaimedChannelDelivery[]> {
  const rows = await claimDue(db, channelDeliveries, now, options);
  const pushIds = rows.filter((r) => r.channel === "push").map((r) => r.target);
  const smsUsers = rows.filter((r) => r.channel === "sms" && r.userId !== null).map((r) => r.userId as string);
  const subscriptions = pushIds.length
    ? await db
        .select({ id: pushSubscriptions.id, userId: pushSubscriptions.userId, endpoint: pushSubscriptions.endpoint, p256dh: pushSubscriptions.p256dh, auth: pushSubscriptions.auth })
        .from(pushSubscriptions)
        .where(inArray(pushSubscriptions.id, pushIds))
    : [];
  const phones = smsUsers.length ? await db.select({ userId: phoneNumbers.userId, e164: phoneNumbers.e164 }).from(phoneNumbers).where(inArray(phoneNumbers.userId, smsUsers)) : [];
  // A browser registered again by someone else keeps its subscription id but is theirs now: what was held for
  // the previous user (quiet hours, backoff) must not reach it, so a push goes only to its own user's subscription.
  const targets = new Map(subscriptions.map((s) => [`${s.userId} ${s.id}`, { endpoint: s.endpoint, p256dh: s.p256dh, auth: s.auth }]));
  const numbers = new Set(phones.map((p) => `${p.userId} ${p.e164}`));
  return rows.map((r) => ({ ...r, pushTarget: r.channel === "push" ? (targets.get(`${r.userId} ${r.target}`) ?? null) : null, smsTargetKnown: r.channel === "sms" && numbers.has(`${r.userId} ${r.target}`) }));
}

const dropped = (error: string): ChannelSendResult => ({ ok: false, error, gone: true });

async function sendOne(sender: ChannelSender, row: ClaimedChannelDelivery): Promise<ChannelSendResult> {
  if (!row.payload) return dropped("no payload");
  if (row.channel === "push") {
    if (!row.pushTarget) return dropped("the push subscription was removed");
    return sender.push.send(row.pushTarget, row.payload as PushPayload);
  }
  if (!row.smsTargetKnown) return dropped("the number is no longer the user's");
  // A code that reaches its user after it expired is useless, and only keeps a secret in flight.
  const { expiresAt } = row.payload as SmsPayload;
  if (expiresAt && Date.parse(expiresAt) <= sender.now().getTime()) return dropped("the code expired before it could be sent");
  if (!sender.sms) return { ok: false, error: "SMS is not configured" };
  return sender.sms.send(row.target, (row.payload as SmsPayload).text);
}

/**
 * Records one attempt: sent (the payload dropped: an SMS may carry a verification code), dropped (its target is
 * gone: a push subscription the service no longer knows is deleted with it; or an expired code), or the backoff of
 * email deliveries (an SMS given up on loses its payload).
 * Only a pending row changes; null when it was not pending any more.
 */
export async function recordChannelAttempt(db: Executor, row: ChannelDeliveryRow, result: ChannelSendResult, now: Date, policy: SendPolicy) {
  const t = channelDeliveries;
  const attempts = sql`${t.attempts} + 1`;
  const changes = result.ok
    ? { attempts, status: "sent" as const, sentAt: now, providerMessageId: result.messageId, payload: null, lastError: null, nextAttemptAt: null, updatedAt: now }
    : result.gone
      ? { attempts, status: "dropped" as const, payload: null, lastError: result.error.slice(0, 1000), nextAttemptAt: null, updatedAt: now }
      : failedSmsOrPush(row, failedAttempt(t, result.error, now, policy, result.retryAfterSeconds ?? 0));
  // The subscription first: whoever sees the delivery dropped finds its gone subscription removed too.
  if (row.channel === "push" && row.userId !== null) {
    // Only the delivery's own user's subscription: one that moved to another user is theirs to keep.
    const own = and(eq(pushSubscriptions.id, row.target), eq(pushSubscriptions.userId, row.userId));
    if (!result.ok && result.gone) await db.delete(pushSubscriptions).where(own);
    else if (result.ok) await db.update(pushSubscriptions).set({ lastSuccessAt: now }).where(own);
  }
  const [recorded] = await db
    .update(t)
    .set(changes)
    .where(and(eq(t.id, row.id), eq(t.status, "pending")))
    .returning({ status: t.status, attempts: t.attempts, nextAttemptAt: t.nextAttemptAt });
  return recorded ?? null;
}

/** An SMS given up on loses its text too (it may be a code, and the number is on the row); a push keeps it. */
function failedSmsOrPush(row: ChannelDeliveryRow, failed: ReturnType<typeof failedAttempt>) {
  if (row.channel !== "sms") return failed;
  return { ...failed, payload: sql`case when ${failed.status} = 'failed' then null else ${channelDeliveries.payload} end` };
}

const channelKind = (sender: ChannelSender, policy: SendPolicy): DeliveryKind<ClaimedChannelDelivery, ChannelSendResult, ChannelDeliveryStatus> => ({
  claim: (limit, ids) => claimDueChannelMessages(sender.db, sender.now(), { leaseSeconds: policy.leaseSeconds, limit, ids }),
  send: (row) => sendOne(sender, row),
  record: (row, result) => recordChannelAttempt(sender.db, row, result, sender.now(), policy),
});

/** Claims due SMS and push messages (among `ids`, or all) and sends them; see `sendDue`. */
export async function sendDueChannelMessages(sender: ChannelSender, policy: SendPolicy, scope: DueScope = {}): Promise<ChannelAttemptOutcome[]> {
  return sendDue(channelKind(sender, policy), policy.concurrency, (error) => ({ ok: false, error }), scope);
}
