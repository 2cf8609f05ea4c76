import { eq, sql } from "drizzle-orm";
import { discussionMentions, discussionPosts, discussionSubscriptions, discussionTopics, users } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { REMOVED_NOTICE } from "./discussion-rules.js";

/** What a topic opened by an erased user is titled instead. */
export const ERASED_TOPIC_TITLE = "[removed]";

/**
 * A user's discussion data at erasure (domain/privacy/erasure.ts's inventory): their posts blanked (body, HTML and
 * search vector) and marked deleted, the titles of topics they opened replaced, their subscriptions and the
 * mentions of them deleted. Threads keep their shape and moderation state. Others' inbox entries about their posts
 * (which quote the post and name them) lose the quote and the name. Runs before the user row is pseudonymised.
 */
export async function eraseDiscussionData(ctx: DomainContext, userId: string): Promise<void> {
  const now = ctx.now();
  const [user] = await ctx.db.select({ name: users.displayName }).from(users).where(eq(users.id, userId));
  if (user && user.name.length > 0) {
    await ctx.db.execute(sql`
      update notifications n set body = ${REMOVED_NOTICE}, title = replace(n.title, ${user.name}, ${ERASED_TOPIC_TITLE})
      where n.template in ('discussion-reply', 'discussion-mention') and n.subject_type = 'discussion-topic'
        and n.subject_id in (select distinct topic_id from discussion_posts where author_user_id = ${userId})
        and (strpos(n.body, ${user.name}) > 0 or strpos(n.title, ${user.name}) > 0)`);
  }
  await ctx.db
    .update(discussionPosts)
    .set({ bodyMarkdown: "", bodyHtml: "", search: sql`''::tsvector`, deletedAt: sql`coalesce(${discussionPosts.deletedAt}, ${now.toISOString()}::timestamptz)`, updatedAt: now })
    .where(eq(discussionPosts.authorUserId, userId));
  await ctx.db.update(discussionTopics).set({ title: ERASED_TOPIC_TITLE, updatedAt: now }).where(eq(discussionTopics.authorUserId, userId));
  await ctx.db.delete(discussionSubscriptions).where(eq(discussionSubscriptions.userId, userId));
  await ctx.db.delete(discussionMentions).where(eq(discussionMentions.userId, userId));
}
