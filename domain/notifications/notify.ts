import { sql } from "drizzle-orm";
import { DateTime } from "luxon";
import { channelDeliveries, notifications, type PushPayload, type SmsPayload } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import type { ComposedEmail } from "./compose-email.js";
import { recordEmails } from "./email-deliveries.js";
import { defaultPreferences as defaults, type NotificationCategory } from "./preferences.js";

/**
 * One notification for one person: always kept in their inbox (when they have an account), and sent by the
 * channels their preferences choose for its category: email (when `email` is given), push to each registered
 * subscription, SMS to their verified number. Recorded once per (event, user, template).
 */
export interface NotificationInput {
  /** null: an address with no account (a course invitation): email only, no inbox. */
  userId: string | null;
  /** The event (or another stable key) it comes from; recording the same again records nothing. */
  eventId: string;
  /** The email template key, or the kind of notification ("announcement", "discussion-reply", ...). */
  template: string;
  /** null: system notifications (account, security): always emailed, never pushed or texted (no opt-out there). */
  category: NotificationCategory | null;
  /** false: inbox and email only, whatever the user chose for push and SMS (direct emails: see recordDirectEmails). */
  pushAndSms?: boolean;
  /** Sent by push and SMS even in the user's quiet hours. */
  urgent?: boolean;
  /** Short plain text in the recipient's language: the inbox entry, the push notification, the SMS. */
  title: string;
  body: string;
  url?: string | null;
  /** What it is about (`announcement`, `discussion-topic`, ...), so reading or removing that reaches it. */
  subject?: { type: string; id: string } | null;
  /** The email, composed in the recipient's language; omitted when the notification has no email. */
  email?: ComposedEmail | null;
}

export interface RecordedNotifications {
  /** Inbox rows recorded by this call (none for an (event, user, template) recorded before). */
  inboxIds: string[];
  emailIds: string[];
  channelIds: string[];
}

/** One user's channel choices, as stored (domain/db/schema/notification-preferences.ts), defaults when no row. */
interface ChannelChoices {
  userId: string;
  email: Record<NotificationCategory, boolean>;
  pushCategories: string[];
  smsCategories: string[];
  quietHoursStart: string | null;
  quietHoursEnd: string | null;
  timeZone: string | null;
  discussionDigest: boolean;
  /** The verified number, else null. */
  phone: string | null;
  pushSubscriptionIds: string[];
}

// Rows per insert statement (each inbox or channel row is a few hundred bytes).
const CHUNK = 1_000;
const SMS_MAX = 320;
const PUSH_BODY_MAX = 300;

const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** An SMS: the title, clipped so that the link after it stays whole (a cut link leads nowhere). */
export function smsText(title: string, url: string | null): string {
  if (!url || url.length > SMS_MAX - 20) return clip(title, SMS_MAX);
  return `${clip(title, SMS_MAX - url.length - 1)} ${url}`;
}

/**
 * Records notifications in the caller's transaction: the inbox rows, then for each row made now the email, push
 * and SMS deliveries its user's preferences call for (one statement per table for the whole batch). Nothing is
 * sent here: the caller is told the email and channel ids (`onEmailsRecorded`, `onChannelMessagesRecorded`) and
 * sends them after commit; the retry timers send what it does not. Non-urgent push and SMS recorded in a
 * user's quiet hours are due when those hours end. Discussion emails of users who chose the digest are held on
 * the inbox row (`digest_pending`) for the digest timer.
 */
export async function recordNotifications(ctx: DomainContext, inputs: readonly NotificationInput[]): Promise<RecordedNotifications> {
  const now = ctx.now();
  const withUser = inputs.filter((n): n is NotificationInput & { userId: string } => n.userId !== null);
  const choices = await channelChoices(ctx, [...new Set(withUser.map((n) => n.userId))]);

  // The inbox rows; only those made now go on to the channels (a redelivered event finds them made).
  const inboxRows = withUser.map((n) => {
    const c = choices.get(n.userId);
    const digest = n.category === "discussions" && n.email != null && c !== undefined && c.discussionDigest && c.email.discussions;
    return { id: ctx.newId(), input: n, digest };
  });
  const made = new Set<string>();
  const keyOf = (eventId: string, userId: string, template: string) => `${eventId} ${userId} ${template}`;
  const at = now.toISOString();
  for (let i = 0; i < inboxRows.length; i += CHUNK) {
    const chunk = inboxRows.slice(i, i + CHUNK);
    // Booleans travel as text: postgres.js cannot bind a boolean array.
    const col = <T>(pick: (r: (typeof inboxRows)[number]) => T) => sql.param(chunk.map(pick));
    const rows = await ctx.db.execute<{ id: string; event_id: string; user_id: string; template: string }>(sql`
      insert into ${notifications} (id, user_id, event_id, template, category, urgent, title, body, url, subject_type, subject_id, digest_pending, created_at)
      select v.id, v.user_id, v.event_id, v.template, v.category, v.urgent::boolean, v.title, v.body, v.url, v.subject_type, v.subject_id, v.digest::boolean, ${at}::timestamptz
      from unnest(${col((r) => r.id)}::uuid[], ${col((r) => r.input.userId)}::uuid[], ${col((r) => r.input.eventId)}::uuid[], ${col((r) => r.input.template)}::text[],
        ${col((r) => r.input.category)}::text[], ${col((r) => String(r.input.urgent ?? false))}::text[], ${col((r) => r.input.title)}::text[], ${col((r) => r.input.body)}::text[],
        ${col((r) => r.input.url ?? null)}::text[], ${col((r) => r.input.subject?.type ?? null)}::text[], ${col((r) => r.input.subject?.id ?? null)}::uuid[], ${col((r) => String(r.digest))}::text[])
        as v(id, user_id, event_id, template, category, urgent, title, body, url, subject_type, subject_id, digest)
      on conflict (event_id, user_id, template) do nothing
      returning id, event_id, user_id, template`);
    for (const r of rows) made.add(keyOf(r.event_id, r.user_id, r.template));
  }

  const emails: { eventId: string; email: ComposedEmail }[] = [];
  const channelRows: { id: string; eventId: string; userId: string; channel: "sms" | "push"; target: string; payload: PushPayload | SmsPayload; urgent: boolean; dueAt: string }[] = [];
  // Emails to addresses without an account go as they are (their (event, address) is unique in email_deliveries).
  for (const n of inputs) if (n.userId === null && n.email) emails.push({ eventId: n.eventId, email: n.email });
  for (const row of inboxRows) {
    const n = row.input;
    if (!made.has(keyOf(n.eventId, n.userId, n.template))) continue;
    const c = choices.get(n.userId);
    if (!c) continue; // the user is gone
    if (n.email && !row.digest && (n.category === null || c.email[n.category])) emails.push({ eventId: n.eventId, email: n.email });
    const urgent = n.urgent ?? false;
    const dueAt = (urgent ? now : (quietUntil(c, now) ?? now)).toISOString();
    const url = n.url ?? null;
    // Push and SMS only for the categories the user chose: something they cannot opt out of is not pushed.
    if (n.category === null || n.pushAndSms === false) continue;
    if (c.pushCategories.includes(n.category)) {
      for (const subscriptionId of c.pushSubscriptionIds) {
        const payload: PushPayload = { title: clip(n.title, 120), body: clip(n.body, PUSH_BODY_MAX), url, tag: row.id, urgent };
        channelRows.push({ id: ctx.newId(), eventId: n.eventId, userId: n.userId, channel: "push", target: subscriptionId, payload, urgent, dueAt });
      }
    }
    if (c.phone && c.smsCategories.includes(n.category)) {
      const text = smsText(n.title, url);
      channelRows.push({ id: ctx.newId(), eventId: n.eventId, userId: n.userId, channel: "sms", target: c.phone, payload: { text }, urgent, dueAt });
    }
  }

  const channelIds: string[] = [];
  for (let i = 0; i < channelRows.length; i += CHUNK) {
    const chunk = channelRows.slice(i, i + CHUNK);
    const col = <T>(pick: (r: (typeof channelRows)[number]) => T) => sql.param(chunk.map(pick));
    // Times travel as text too: postgres.js has no serializer for a timestamptz array parameter.
    const rows = await ctx.db.execute<{ id: string }>(sql`
      insert into ${channelDeliveries} (id, event_id, user_id, channel, target, payload, urgent, status, attempts, next_attempt_at, created_at, updated_at)
      select v.id, v.event_id, v.user_id, v.channel, v.target, v.payload::jsonb, v.urgent::boolean, 'pending', 0, v.due_at::timestamptz, ${at}::timestamptz, ${at}::timestamptz
      from unnest(${col((r) => r.id)}::uuid[], ${col((r) => r.eventId)}::uuid[], ${col((r) => r.userId)}::uuid[], ${col((r) => r.channel)}::text[], ${col((r) => r.target)}::text[],
        ${col((r) => JSON.stringify(r.payload))}::text[], ${col((r) => String(r.urgent))}::text[], ${col((r) => r.dueAt)}::text[])
        as v(id, event_id, user_id, channel, target, payload, urgent, due_at)
      on conflict (event_id, user_id, channel, target) do nothing
      returning id`);
    channelIds.push(...rows.map((r) => r.id));
  }

  const emailIds = emails.length > 0 ? await recordEmails(ctx, emails) : [];
  if (emailIds.length > 0) ctx.onEmailsRecorded?.(emailIds);
  if (channelIds.length > 0) ctx.onChannelMessagesRecorded?.(channelIds);
  const inboxIds = inboxRows.filter((r) => made.has(keyOf(r.input.eventId, r.input.userId, r.input.template))).map((r) => r.id);
  return { inboxIds, emailIds, channelIds };
}

/**
 * The channel choices of existing users (erased ones are left out: nobody to tell), with their verified number
 * and push subscriptions, in one statement. The rows are key-share locked, so an erasure runs before (and they
 * are left out) or after (and scrubs what was recorded).
 */
async function channelChoices(ctx: DomainContext, userIds: string[]): Promise<Map<string, ChannelChoices>> {
  const result = new Map<string, ChannelChoices>();
  for (let i = 0; i < userIds.length; i += CHUNK) {
    const ids = userIds.slice(i, i + CHUNK);
    const rows = await ctx.db.execute<{
      user_id: string;
      course_updates: boolean | null;
      grades: boolean | null;
      reminders: boolean | null;
      announcements: boolean | null;
      discussions: boolean | null;
      push_categories: string[] | null;
      sms_categories: string[] | null;
      quiet_hours_start: string | null;
      quiet_hours_end: string | null;
      time_zone: string | null;
      discussion_digest: boolean | null;
      phone: string | null;
      push_ids: string[] | null;
    }>(sql`
      select u.id as user_id, p.course_updates, p.grades, p.reminders, p.announcements, p.discussions, p.push_categories, p.sms_categories,
        p.quiet_hours_start, p.quiet_hours_end, p.time_zone, p.discussion_digest,
        case when ph.verified_at is not null then ph.e164 end as phone,
        (select array_agg(s.id order by s.created_at) from push_subscriptions s where s.user_id = u.id) as push_ids
      from users u
      left join notification_preferences p on p.user_id = u.id
      left join phone_numbers ph on ph.user_id = u.id
      where u.id = any(${sql.param(ids)}::uuid[]) and u.erased_at is null
      for key share of u`);
    for (const r of rows) {
      result.set(r.user_id, {
        userId: r.user_id,
        email: {
          courseUpdates: r.course_updates ?? defaults.courseUpdates,
          grades: r.grades ?? defaults.grades,
          reminders: r.reminders ?? defaults.reminders,
          announcements: r.announcements ?? defaults.announcements,
          discussions: r.discussions ?? defaults.discussions,
        },
        pushCategories: r.push_categories ?? defaults.push,
        smsCategories: r.sms_categories ?? defaults.sms,
        quietHoursStart: r.quiet_hours_start,
        quietHoursEnd: r.quiet_hours_end,
        timeZone: r.time_zone,
        discussionDigest: r.discussion_digest ?? defaults.discussionDigest,
        phone: r.phone,
        pushSubscriptionIds: r.push_ids ?? [],
      });
    }
  }
  return result;
}

/**
 * When the user's quiet hours end, if `now` is inside them; null otherwise (or when they have none). Hours are
 * "HH:MM" in the user's zone; a window may wrap midnight (22:00–07:00); equal start and end means none.
 */
export function quietUntil(c: Pick<ChannelChoices, "quietHoursStart" | "quietHoursEnd" | "timeZone">, now: Date): Date | null {
  if (!c.quietHoursStart || !c.quietHoursEnd || !c.timeZone) return null;
  const local = DateTime.fromJSDate(now, { zone: c.timeZone });
  if (!local.isValid) return null;
  const minutes = (hhmm: string) => {
    const [h, m] = hhmm.split(":").map(Number);
    return (h ?? 0) * 60 + (m ?? 0);
  };
  const start = minutes(c.quietHoursStart);
  const end = minutes(c.quietHoursEnd);
  if (start === end) return null;
  const at = local.hour * 60 + local.minute;
  const inside = start < end ? at >= start && at < end : at >= start || at < end;
  if (!inside) return null;
  const endToday = local.set({ hour: Math.floor(end / 60), minute: end % 60, second: 0, millisecond: 0 });
  // Before the end today (the early-morning part of a wrapping window, or a same-day window): today; else tomorrow.
  return (at < end ? endToday : endToday.plus({ days: 1 })).toJSDate();
}
