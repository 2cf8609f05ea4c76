import { sql } from "drizzle-orm";
import { composeEmail } from "../notifications/compose-email.js";
import { recordEmails } from "../notifications/email-deliveries.js";
import type { DomainContext } from "../shared/context.js";
import type { UnsubscribeLinks } from "./discussion-notifications.js";

/** Users whose held discussion emails one run of a batch sends. */
const USERS_PER_BATCH = 200;
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
 * One batch of the daily discussion digest: for up to USERS_PER_BATCH users with held discussion emails
 * (`digest_pending` inbox rows), takes their held rows (`for update skip locked`: a concurrent run takes other
 * rows), clears the flag and records ONE email per user listing them, in the caller's transaction, so each item
 * is in exactly one digest. The email's event id is the user's first held row's id: recording it again (a replay
 * of the same rows) records nothing. A user who has since turned discussion emails off, or was erased, gets none.
 */
export async function sendDiscussionDigestBatch(ctx: DomainContext, appUrl: string, links: UnsubscribeLinks): Promise<DigestBatch> {
  const held = await ctx.db.execute<HeldRow>(sql`
    with picked as (
      select n.id from notifications n
      where n.digest_pending and n.user_id in (select distinct user_id from notifications where digest_pending limit ${USERS_PER_BATCH})
      for update of n skip locked
    )
    update notifications n set digest_pending = false from picked where n.id = picked.id
    returning n.id, n.user_id, n.title, n.url, n.created_at`);
  if (held.length === 0) return { users: 0, items: 0, emails: 0 };
  const byUser = new Map<string, HeldRow[]>();
  for (const row of held) byUser.set(row.user_id, [...(byUser.get(row.user_id) ?? []), row]);
  const recipients = await ctx.db.execute<{ id: string; email: string; name: string; locale: string; wants: boolean | null }>(sql`
    select u.id, u.email, u.display_name as name, u.locale, p.discussions as wants
    from users u left join notification_preferences p on p.user_id = u.id
    where u.id = any(${sql.param([...byUser.keys()])}::uuid[]) and u.erased_at is null
    for key share of u`);
  const emails = [];
  for (const r of recipients) {
    if (r.wants === false || r.email.endsWith("@users.invalid")) continue;
    const rows = (byUser.get(r.id) ?? []).sort((a, b) => new Date(a.created_at).getTime() - new Date(b.created_at).getTime() || a.id.localeCompare(b.id));
    const first = rows[0];
    if (!first) continue;
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
