import { sql } from "drizzle-orm";
import { composeEmail, isPlaceholderEmail } from "../notifications/compose-email.js";
import { recordEmails } from "../notifications/email-deliveries.js";
import type { DomainContext } from "../shared/context.js";
import type { EmailLinks } from "../notifications/notifications-for-event.js";

/** Held rows one batch takes at most (a user's rows are sent together unless they alone have more). */
const ROWS_PER_BATCH = 2_000;
/** Items a digest lists; the rest are counted ("and 12 more"), all are in the inbox. */
const ITEMS_LISTED = 30;

// A type (not an interface): execute<T> wants an index signature.
type HeldRow = { id: string; user_id: string; title: string; url: string | null; created_at: string };

export interface DigestBatch {
  users: number;
  items: number;
  emails: number;
}

/**
 * One batch of the daily discussion digest: locks held discussion emails (`digest_pending` inbox rows) by user,
 * skipping rows a concurrent batch holds (`for update skip locked`, so it takes other users instead of finding
 * nothing), takes the users whose rows it locked whole, clears the flag on their rows and
 * records ONE email per user listing them, in the caller's transaction, so each item is in exactly one digest. The
 * email's event id is the user's first held row's id: recording it again (a replay of the same rows) records
 * nothing. A user who has since turned discussion emails off, or was erased, gets none. `users: 0`: nothing left.
 */
export async function sendDiscussionDigestBatch(ctx: DomainContext, appUrl: string, links: Pick<EmailLinks, "unsubscribeUrl">): Promise<DigestBatch> {
  // In user order over the partial index, so a user's rows come together.
  const locked = await ctx.db.execute<{ id: string; user_id: string }>(sql`
    select n.id, n.user_id from notifications n where n.digest_pending
    order by n.user_id, n.id
    limit ${ROWS_PER_BATCH}
    for update of n skip locked`);
  const users = [...new Set(locked.map((r) => r.user_id))];
  // The limit may have cut the last user's rows: they wait for the next batch (unless they are the only user).
  const taken = new Set(locked.length >= ROWS_PER_BATCH && users.length > 1 ? users.slice(0, -1) : users);
  const takenIds = locked.filter((r) => taken.has(r.user_id)).map((r) => r.id);
  if (takenIds.length === 0) return { users: 0, items: 0, emails: 0 };
  const held = await ctx.db.execute<HeldRow>(sql`
    update notifications n set digest_pending = false where n.id = any(${sql.param(takenIds)}::uuid[])
    returning n.id, n.user_id, n.title, n.url, n.created_at`);
  // Every taken row is locked by this run: the update returns them all, so held is never empty.
  const byUser = new Map<string, HeldRow[]>();
  for (const row of held) {
    const rows = byUser.get(row.user_id);
    if (rows) rows.push(row);
    else byUser.set(row.user_id, [row]);
  }
  const recipients = await ctx.db.execute<{ id: string; email: string; name: string; locale: string; wants: boolean | null }>(sql`
    select u.id, u.email, u.display_name as name, u.locale, p.discussions as wants
    from users u left join notification_preferences p on p.user_id = u.id
    where u.id = any(${sql.param([...byUser.keys()])}::uuid[]) and u.erased_at is null
    for key share of u`);
  const emails = [];
  for (const r of recipients) {
    if (r.wants === false || isPlaceholderEmail(r.email)) continue;
    const rows = (byUser.get(r.id) ?? []).sort((a, b) => new Date(a.created_at).getTime() - new Date(b.created_at).getTime() || a.id.localeCompare(b.id));
    // A recipient is one of byUser's keys, whose lists are never empty.
    const first = rows[0] as HeldRow;
    const listed = rows.slice(0, ITEMS_LISTED).map((row) => (row.url ? `• ${row.title} — ${row.url}` : `• ${row.title}`));
    const more = rows.length - listed.length;
    const es = r.locale.startsWith("es");
    if (more > 0) listed.push(es ? `… y ${more} más` : `… and ${more} more`);
    const email = composeEmail("discussion-digest", r.locale, r.email, { appUrl, name: r.name, count: String(rows.length), items: listed.join("\n") }, await links.unsubscribeUrl(r.id, "discussions"));
    emails.push({ eventId: first.id, email });
  }
  const ids = emails.length > 0 ? await recordEmails(ctx, emails) : [];
  if (ids.length > 0) ctx.onEmailsRecorded?.(ids);
  return { users: byUser.size, items: held.length, emails: ids.length };
}
