import { eq, sql } from "drizzle-orm";
import { type CourseViewer, seesAsStaff } from "../catalog/viewer.js";
import { discussionPosts, discussionTopics } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { markdownToText, renderMarkdown } from "../shared/markdown.js";
import { fail, ok, type Result } from "../shared/result.js";
import { type DiscussionRules, withinEditWindow } from "./discussion-rules.js";
import { authorById, type PostRow, type PostView, postView, topicVisible } from "./discussion-view.js";
import type { DiscussionErrorCode } from "./discussions.errors.js";
import { courseLanguage, searchVector } from "./post-discussions.js";

/**
 * The caller's own post, locked for the change. Anyone else's post is not found (never 403): only its author
 * edits or deletes it; moderators use the topic's moderation.
 */
async function ownPost(ctx: DomainContext, viewer: CourseViewer, postId: string): Promise<Result<{ post: PostRow; locked: boolean; staff: boolean; title: string }, DiscussionErrorCode>> {
  // Only the post is locked: the topic is read with it (nothing that holds the post's lock changes the topic).
  const [row] = await ctx.db
    .select({ post: discussionPosts, topic: discussionTopics })
    .from(discussionPosts)
    .innerJoin(discussionTopics, eq(discussionTopics.id, discussionPosts.topicId))
    .where(eq(discussionPosts.id, postId))
    .for("update", { of: discussionPosts });
  if (!row || row.post.authorUserId !== viewer.userId) return fail("DISCUSSION_POST_NOT_FOUND");
  const { post, topic } = row;
  const staff = await seesAsStaff(viewer, post.courseId);
  // A post out of the author's sight (hidden, or in a hidden or deleted topic) is not found either.
  if (!topicVisible(topic, staff) || (post.hidden && !staff)) return fail("DISCUSSION_POST_NOT_FOUND");
  return ok({ post, locked: topic.locked, staff, title: topic.title });
}

/**
 * The author changes their post's body within the edit window. `expectedVersion` (If-Match) turns a concurrent
 * change into PRECONDITION_FAILED. The search vector is written again with the body.
 */
export async function editPost(
  ctx: DomainContext,
  viewer: CourseViewer,
  input: { postId: string; body: string; expectedVersion?: number },
  rules: DiscussionRules,
): Promise<Result<PostView, DiscussionErrorCode>> {
  const own = await ownPost(ctx, viewer, input.postId);
  if (!own.ok) return own;
  const { post } = own.value;
  if (post.deletedAt !== null) return fail("DISCUSSION_POST_DELETED", "The post was removed.");
  if (input.expectedVersion !== undefined && input.expectedVersion !== post.version) return fail("PRECONDITION_FAILED");
  const now = ctx.now();
  if (!withinEditWindow(post.createdAt, now, rules.editWindowMinutes)) {
    return fail("DISCUSSION_EDIT_WINDOW_CLOSED", `Posts can be edited for ${rules.editWindowMinutes} minutes after they are made.`);
  }
  if (own.value.locked && !own.value.staff) return fail("DISCUSSION_TOPIC_LOCKED", "The topic is locked.");
  const language = (await courseLanguage(ctx.db, post.courseId)) ?? "en";
  const text = post.parentPostId === null ? `${own.value.title} ${markdownToText(input.body)}` : markdownToText(input.body);
  const [changed] = await ctx.db
    .update(discussionPosts)
    .set({ bodyMarkdown: input.body, bodyHtml: renderMarkdown(input.body), search: searchVector(language, text), editedAt: now, updatedAt: now, version: sql`${discussionPosts.version} + 1` })
    .where(eq(discussionPosts.id, post.id))
    .returning();
  if (!changed) throw new Error("update returned no row");
  return ok(postView(changed, await authorById(ctx.db, changed.authorUserId)));
}

/**
 * The author removes their post: its body leaves every answer (and the search), the thread keeps its place.
 * Removing a removed post again changes nothing.
 */
export async function deleteOwnPost(ctx: DomainContext, viewer: CourseViewer, input: { postId: string; expectedVersion?: number }): Promise<Result<null, DiscussionErrorCode>> {
  const own = await ownPost(ctx, viewer, input.postId);
  if (!own.ok) return own;
  const { post } = own.value;
  if (post.deletedAt !== null) return ok(null);
  if (input.expectedVersion !== undefined && input.expectedVersion !== post.version) return fail("PRECONDITION_FAILED");
  const now = ctx.now();
  await ctx.db
    .update(discussionPosts)
    .set({ deletedAt: now, deletedByUserId: viewer.userId, search: sql`''::tsvector`, updatedAt: now, version: sql`${discussionPosts.version} + 1` })
    .where(eq(discussionPosts.id, post.id));
  await ctx.db.update(discussionTopics).set({ updatedAt: now }).where(eq(discussionTopics.id, post.topicId));
  return ok(null);
}
