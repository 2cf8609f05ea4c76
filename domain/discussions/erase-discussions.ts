import { eq, sql } from "drizzle-orm";
import { discussionMentions, discussionPosts, discussionSubscriptions, discussionTopics } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { REMOVED_NOTICE } from "./discussion-rules.js";

/** What a topic opened by an erased user is titled instead. */
export const ERASED_TOPIC_TITLE = "[removed]";

/**
 * A user's discussion data at erasure (domain/privacy/erasure.ts's inventory): their posts blanked (body, HTML and
 * search vector) and marked deleted, the titles of topics they opened replaced, their subscriptions and the
 * mentions of them deleted. Threads keep their shape and moderation state. Others' inbox entries about their posts
 * (which quote the post and name them) or about replies in topics they opened (which quote its title) lose title
 * and text. Runs before the user row is pseudonymised.
 */
export async function eraseDiscussionData(ctx: DomainContext, userId: string): Promise<void> {
  const now = ctx.now();
  // By what each entry is about (its post), never by the name's text: entries about their posts quote the post and
  // name them; entries about replies in topics they opened quote the topic's title (theirs too).
  await ctx.db.execute(sql`
    update notifications n set title = ${ERASED_TOPIC_TITLE}, body = ${REMOVED_NOTICE}
    where n.subject_type = 'discussion-post' and n.template in ('discussion-reply', 'discussion-mention')
      and n.subject_id in (
        select p.id from discussion_posts p where p.author_user_id = ${userId}
        union all
        select p.id from discussion_posts p join discussion_topics t on t.id = p.topic_id where t.author_user_id = ${userId})`);
  await ctx.db
    .update(discussionPosts)
    .set({ bodyMarkdown: "", bodyHtml: "", search: sql`''::tsvector`, deletedAt: sql`coalesce(${discussionPosts.deletedAt}, ${now.toISOString()}::timestamptz)`, updatedAt: now })
    .where(eq(discussionPosts.authorUserId, userId));
  await ctx.db.update(discussionTopics).set({ title: ERASED_TOPIC_TITLE, updatedAt: now }).where(eq(discussionTopics.authorUserId, userId));
  await ctx.db.delete(discussionSubscriptions).where(eq(discussionSubscriptions.userId, userId));
  await ctx.db.delete(discussionMentions).where(eq(discussionMentions.userId, userId));
}
