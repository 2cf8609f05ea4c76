import { eq, sql } from "drizzle-orm";
import { discussionMentions, discussionPosts, discussionSubscriptions, discussionTopics } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";

/** What a topic opened by an erased user is titled instead. */
export const ERASED_TOPIC_TITLE = "[removed]";

/**
 * A user's discussion data at erasure (domain/privacy/erasure.ts's inventory): their posts blanked (body, HTML and
 * search vector) and marked deleted, the titles of topics they opened replaced, their subscriptions and the
 * mentions of them deleted. Threads keep their shape and moderation state.
 */
export async function eraseDiscussionData(ctx: DomainContext, userId: string): Promise<void> {
  const now = ctx.now();
  await ctx.db
    .update(discussionPosts)
    .set({ bodyMarkdown: "", bodyHtml: "", search: sql`''::tsvector`, deletedAt: sql`coalesce(${discussionPosts.deletedAt}, ${now.toISOString()}::timestamptz)`, updatedAt: now })
    .where(eq(discussionPosts.authorUserId, userId));
  await ctx.db.update(discussionTopics).set({ title: ERASED_TOPIC_TITLE, updatedAt: now }).where(eq(discussionTopics.authorUserId, userId));
  await ctx.db.delete(discussionSubscriptions).where(eq(discussionSubscriptions.userId, userId));
  await ctx.db.delete(discussionMentions).where(eq(discussionMentions.userId, userId));
}
