import { and, desc, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { notifications } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";

/** An inbox entry as its owner sees it. */
export interface InboxEntry {
  id: string;
  template: string;
  category: string | null;
  title: string;
  body: string;
  url: string | null;
  urgent: boolean;
  createdAt: Date;
  readAt: Date | null;
}

const entryColumns = {
  id: notifications.id,
  template: notifications.template,
  category: notifications.category,
  title: notifications.title,
  body: notifications.body,
  url: notifications.url,
  urgent: notifications.urgent,
  createdAt: notifications.createdAt,
  readAt: notifications.readAt,
};

export interface InboxQuery {
  unreadOnly: boolean;
  /** keyset position from the cursor: the last [createdAt, id] of the previous page */
  after?: { createdAt: Date; id: string };
  limit: number;
}

/**
 * A user's inbox, newest first (keyset on (created_at, id), the index's order), `limit + 1` rows so the caller can
 * tell whether there is a next page, and how many are unread (counted on the partial unread index).
 */
export async function inboxOf(db: Executor, userId: string, query: InboxQuery): Promise<{ entries: InboxEntry[]; unreadCount: number }> {
  const after = query.after
    ? sql`(${notifications.createdAt}, ${notifications.id}) < (${query.after.createdAt.toISOString()}::timestamptz, ${query.after.id}::uuid)`
    : undefined;
  const entries = await db
    .select(entryColumns)
    .from(notifications)
    .where(and(eq(notifications.userId, userId), query.unreadOnly ? sql`${notifications.readAt} is null` : undefined, after))
    .orderBy(desc(notifications.createdAt), desc(notifications.id))
    .limit(query.limit + 1);
  const [count] = await db.execute<{ n: number }>(sql`select count(*)::int as n from ${notifications} where user_id = ${userId} and read_at is null`);
  return { entries, unreadCount: count?.n ?? 0 };
}

// Reading an announcement's inbox entry reads the announcement too (its list shows it read).
const readAnnouncementsOf = (marked: string) => sql`
  insert into announcement_reads (announcement_id, user_id, read_at)
  select m.subject_id, m.user_id, m.read_at from ${sql.raw(marked)} m join announcements a on a.id = m.subject_id
  where m.subject_type = 'announcement' and a.published_at is not null
  on conflict do nothing`;

/** Marks one of the user's entries read (again: no change). Another user's entry is not found. */
export async function markNotificationRead(ctx: DomainContext, userId: string, notificationId: string): Promise<Result<InboxEntry, "NOTIFICATION_NOT_FOUND">> {
  const now = ctx.now().toISOString();
  const [row] = await ctx.db.execute<{ id: string }>(sql`
    with marked as (
      update ${notifications} set read_at = coalesce(read_at, ${now}::timestamptz)
      where id = ${notificationId} and user_id = ${userId}
      returning id, user_id, subject_type, subject_id, read_at
    ), reads as (${readAnnouncementsOf("marked")})
    select id from marked`);
  if (!row) return fail("NOTIFICATION_NOT_FOUND");
  const [entry] = await ctx.db.select(entryColumns).from(notifications).where(eq(notifications.id, notificationId));
  return ok(entry as InboxEntry);
}

/** Marks every unread entry of the user read, in one statement; how many were. */
export async function markAllNotificationsRead(ctx: DomainContext, userId: string): Promise<{ marked: number }> {
  const now = ctx.now().toISOString();
  const [row] = await ctx.db.execute<{ n: number }>(sql`
    with marked as (
      update ${notifications} set read_at = ${now}::timestamptz
      where user_id = ${userId} and read_at is null
      returning id, user_id, subject_type, subject_id, read_at
    ), reads as (${readAnnouncementsOf("marked")})
    select count(*)::int as n from marked`);
  return { marked: row?.n ?? 0 };
}
