import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { belongsTo, timestamps, tstz } from "./columns.js";
import { users } from "./users.js";

/**
 * The in-app inbox: one row per notification a user was sent, by whatever channels (email, push, SMS) it also
 * went. Recorded once per (event, user, template) by `recordNotifications` (domain/notifications/notify.ts).
 */
export const notifications = pgTable(
  "notifications",
  {
    id: uuid("id").primaryKey(),
    userId: belongsTo("user_id", () => users.id),
    // the event (or another stable key) the notification comes from: the dedupe key with user and template
    eventId: uuid("event_id").notNull(),
    // the email template key, or the kind of notification ("announcement", "discussion-reply", "mention", ...)
    template: text("template").notNull(),
    // the preference category (domain/notifications/preferences.ts); null for system notifications
    category: text("category"),
    // urgent notifications are sent by push and SMS even in the user's quiet hours
    urgent: boolean("urgent").notNull().default(false),
    title: text("title").notNull(),
    // short plain text, in the user's language
    body: text("body").notNull(),
    // where the notification leads in the app, if anywhere
    url: text("url"),
    // what the notification is about ("announcement", "discussion-topic", "course-evaluation", ...): reading or
    // removing that thing reads or removes its notifications
    subjectType: text("subject_type"),
    subjectId: uuid("subject_id"),
    // the email was held for the user's digest (discussions); the digest timer sends it and clears this
    digestPending: boolean("digest_pending").notNull().default(false),
    createdAt: tstz("created_at").notNull().defaultNow(),
    readAt: tstz("read_at"),
  },
  (t) => [
    uniqueIndex("notifications_event_user_template_idx").on(t.eventId, t.userId, t.template),
    index("notifications_user_created_idx").on(t.userId, t.createdAt.desc(), t.id.desc()),
    index("notifications_user_unread_idx").on(t.userId).where(sql`${t.readAt} is null`),
    index("notifications_digest_pending_idx").on(t.userId).where(sql`${t.digestPending}`),
    index("notifications_subject_idx").on(t.subjectType, t.subjectId),
  ],
);

export const channelNames = ["sms", "push"] as const;
export type ChannelName = (typeof channelNames)[number];
// pending: to send (or send again); sent; failed: given up after the last attempt; dropped: its target went away
// (a push subscription the service answered 404/410 for, a phone number no longer verified).
export const channelDeliveryStatuses = ["pending", "sent", "failed", "dropped"] as const;
export type ChannelDeliveryStatus = (typeof channelDeliveryStatuses)[number];

/** What a push delivery sends (JSON, encrypted for the subscription by web-push). */
export interface PushPayload {
  title: string;
  body: string;
  url: string | null;
  /** The notification's id: a browser shows one notification per tag. */
  tag: string;
  urgent: boolean;
}
/** What an SMS delivery sends. */
export interface SmsPayload {
  text: string;
  /** ISO time after which the text is useless (a verification code): it is dropped instead of sent late. */
  expiresAt?: string;
}

/**
 * One SMS or push message for one target (a phone number, a push subscription id) of one event, recorded with
 * the notification and sent after commit like email deliveries (an outbox); the payload is dropped once sent.
 */
export const channelDeliveries = pgTable(
  "channel_deliveries",
  {
    id: uuid("id").primaryKey(),
    eventId: uuid("event_id").notNull(),
    userId: uuid("user_id").references(() => users.id, { onDelete: "cascade" }),
    channel: text("channel").$type<ChannelName>().notNull(),
    // E.164 number (sms) or push subscription id (push)
    target: text("target").notNull(),
    payload: jsonb("payload").$type<PushPayload | SmsPayload>(),
    urgent: boolean("urgent").notNull().default(false),
    status: text("status").$type<ChannelDeliveryStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    // when the next attempt is due (the end of the user's quiet hours for non-urgent messages), or the sender's lease
    nextAttemptAt: tstz("next_attempt_at"),
    providerMessageId: text("provider_message_id"),
    sentAt: tstz("sent_at"),
    ...timestamps,
  },
  (t) => [
    // Per user: two people sharing a verified number (or a browser) each get their own message.
    uniqueIndex("channel_deliveries_event_user_channel_target_idx").on(t.eventId, t.userId, t.channel, t.target),
    index("channel_deliveries_next_attempt_at_idx").on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index("channel_deliveries_user_id_idx").on(t.userId),
  ],
);

/** A browser's Web Push subscription (RFC 8030 endpoint and RFC 8291 keys), registered by its signed-in user. */
export const pushSubscriptions = pgTable(
  "push_subscriptions",
  {
    id: uuid("id").primaryKey(),
    userId: belongsTo("user_id", () => users.id),
    // unique: a browser registering again (or for another user signing in on it) moves the row
    endpoint: text("endpoint").notNull(),
    p256dh: text("p256dh").notNull(),
    auth: text("auth").notNull(),
    userAgent: text("user_agent"),
    lastSuccessAt: tstz("last_success_at"),
    ...timestamps,
  },
  (t) => [uniqueIndex("push_subscriptions_endpoint_idx").on(t.endpoint), index("push_subscriptions_user_id_idx").on(t.userId)],
);

/** A user's mobile number for SMS, usable once verified by a code sent to it. */
export const phoneNumbers = pgTable("phone_numbers", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  // E.164 (+ and up to 15 digits)
  e164: text("e164").notNull(),
  verifiedAt: tstz("verified_at"),
  // the pending code's hash (domain/shared/token-hash.ts), when it expires, and wrong tries against it
  codeHash: text("code_hash"),
  codeExpiresAt: tstz("code_expires_at"),
  codeAttempts: integer("code_attempts").notNull().default(0),
  ...timestamps,
});
