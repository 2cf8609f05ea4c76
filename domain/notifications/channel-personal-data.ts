import { and, asc, eq } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { channelDeliveries, notifications, phoneNumbers, pushSubscriptions } from "../db/schema/index.js";
import { after, byId, once, PAGE } from "../privacy/pages.js";
import type { PersonalDataPart } from "../privacy/personal-data.js";

/**
 * Erasure of what the notification channels hold about a person (the inventory's lines in erasure.ts): their
 * inbox, the SMS and push messages to them (with the numbers they went to), their browsers' push subscriptions
 * and their phone number.
 */
export async function eraseChannelData(db: Executor, userId: string): Promise<void> {
  await db.delete(notifications).where(eq(notifications.userId, userId));
  await db.delete(channelDeliveries).where(eq(channelDeliveries.userId, userId));
  await db.delete(pushSubscriptions).where(eq(pushSubscriptions.userId, userId));
  await db.delete(phoneNumbers).where(eq(phoneNumbers.userId, userId));
}


/** The data export's inbox: every notification kept for the person, read or not. */
export const inboxPart: PersonalDataPart = {
  name: "inbox",
  file: "inbox.json",
  description: "Your in-app notifications: what they said, where they led, their category, when they came and when you read them.",
  pages: ({ db }, userId) =>
    byId((afterId) =>
      db
        .select({ id: notifications.id, template: notifications.template, category: notifications.category, title: notifications.title, body: notifications.body, url: notifications.url, createdAt: notifications.createdAt, readAt: notifications.readAt })
        .from(notifications)
        .where(and(eq(notifications.userId, userId), after(notifications.id, afterId)))
        .orderBy(asc(notifications.id))
        .limit(PAGE),
    ),
};

/**
 * The data export's SMS and push part: the phone number (whole: it is theirs) and whether it is verified, and
 * the browsers registered for push (the push service's origin only: the endpoint URL is a capability).
 */
export const channelsPart: PersonalDataPart = {
  name: "notification-channels",
  file: "notification-channels.json",
  description: "Your mobile number for SMS and whether it is verified, and the browsers you registered for push notifications (the push service and when).",
  pages: ({ db }, userId) =>
    once(async () => {
      const [phone] = await db.select({ phone: phoneNumbers.e164, verifiedAt: phoneNumbers.verifiedAt, createdAt: phoneNumbers.createdAt }).from(phoneNumbers).where(eq(phoneNumbers.userId, userId));
      const browsers = await db
        .select({ endpoint: pushSubscriptions.endpoint, userAgent: pushSubscriptions.userAgent, createdAt: pushSubscriptions.createdAt, lastSuccessAt: pushSubscriptions.lastSuccessAt })
        .from(pushSubscriptions)
        .where(eq(pushSubscriptions.userId, userId));
      const pushSubscriptionsHeld = browsers.map(({ endpoint, ...rest }) => ({ pushService: new URL(endpoint).origin, ...rest }));
      return [{ phone: phone ?? null, pushSubscriptions: pushSubscriptionsHeld }];
    }),
};
