import { and, asc, eq, getTableColumns, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { pushSubscriptions, users } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";

/** A user keeps at most this many browsers subscribed; registering one more forgets the oldest. */
export const MAX_PUSH_SUBSCRIPTIONS = 10;

export interface PushSubscriptionInput {
  endpoint: string;
  p256dh: string;
  auth: string;
  userAgent: string | null;
}

/** What the user sees of a subscription: the push service's origin only (the endpoint path is a capability). */
export interface PushSubscriptionView {
  id: string;
  origin: string;
  userAgent: string | null;
  createdAt: Date;
  lastSuccessAt: Date | null;
}

const view = (r: typeof pushSubscriptions.$inferSelect): PushSubscriptionView => ({
  id: r.id,
  origin: new URL(r.endpoint).origin,
  userAgent: r.userAgent,
  createdAt: r.createdAt,
  lastSuccessAt: r.lastSuccessAt,
});

/**
 * Registers a browser's subscription for the user: a known endpoint is moved to them with its new keys (the
 * browser subscribed again, or someone else signed in on it). The user's row is locked first, so two
 * registrations at once cannot both pass the limit; past it the least recently registered go.
 */
export async function registerPushSubscription(ctx: DomainContext, userId: string, input: PushSubscriptionInput): Promise<{ subscription: PushSubscriptionView; created: boolean }> {
  const now = ctx.now();
  const t = pushSubscriptions;
  await ctx.db.select({ id: users.id }).from(users).where(eq(users.id, userId)).for("no key update");
  const [row] = await ctx.db
    .insert(t)
    .values({ id: ctx.newId(), userId, endpoint: input.endpoint, p256dh: input.p256dh, auth: input.auth, userAgent: input.userAgent, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: t.endpoint, set: { userId, p256dh: input.p256dh, auth: input.auth, userAgent: input.userAgent, lastSuccessAt: null, updatedAt: now } })
    // xmax = 0: the row was inserted now, not updated.
    .returning({ ...getTableColumns(t), created: sql<boolean>`xmax = 0` });
  // Beyond the limit: the oldest registrations (by last change) other than this one go.
  await ctx.db.execute(sql`
    delete from ${t} where id in (
      select id from ${t} where user_id = ${userId} and id <> ${row!.id}
      order by updated_at desc offset ${MAX_PUSH_SUBSCRIPTIONS - 1})`);
  const { created, ...saved } = row!;
  return { subscription: view(saved), created };
}

export async function pushSubscriptionsOf(db: Executor, userId: string): Promise<PushSubscriptionView[]> {
  const rows = await db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, userId)).orderBy(asc(pushSubscriptions.createdAt));
  return rows.map(view);
}

/** Removes one of the user's subscriptions; false when they have no such one. */
export async function removePushSubscription(ctx: DomainContext, userId: string, id: string): Promise<boolean> {
  const removed = await ctx.db.delete(pushSubscriptions).where(and(eq(pushSubscriptions.id, id), eq(pushSubscriptions.userId, userId))).returning({ id: pushSubscriptions.id });
  return removed.length > 0;
}
