import { and, eq, sql } from "drizzle-orm";
import { type CourseViewer, seesAsStaff } from "../catalog/viewer.js";
import type { Executor } from "../db/client.js";
import { courses, discussionMentions, discussionPosts, discussionSubscriptions, discussionTopics } from "../db/schema/index.js";
import { countInWindow } from "../identity/login-throttle.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { markdownToText, renderMarkdown } from "../shared/markdown.js";
import { fail, ok, type Result } from "../shared/result.js";
import { type DiscussionRules, RATE_WINDOW_SECONDS, retryAfterSeconds } from "./discussion-rules.js";
import { authorById, type PostView, postView, type TopicView, topicView, visibleTopic } from "./discussion-view.js";
import type { DiscussionErrorCode } from "./discussions.errors.js";
import { checkMentions } from "./members.js";
import { searchConfigFor } from "./search-config.js";

export interface NewTopic {
  courseId: string;
  title: string;
  body: string;
  mentions?: string[];
}

export interface NewReply {
  topicId: string;
  body: string;
  parentPostId?: string;
  mentions?: string[];
}

/** The search vector of a post: its text (and, for an opening post, the topic's title) in the course's language. */
export const searchVector = (language: string, text: string) => sql`to_tsvector(${searchConfigFor(language)}::regconfig, ${text})`;

/** The course's language (what its posts are indexed and searched in); null when there is no such course. */
export async function courseLanguage(db: Executor, courseId: string): Promise<string | null> {
  const [row] = await db.select({ language: courses.language }).from(courses).where(eq(courses.id, courseId));
  return row?.language ?? null;
}

/**
 * Counts one post against the author's posting rate; refused over `postsPerMinute` in a minute. Called last, once
 * the post is otherwise accepted, so refused input does not use up the allowance.
 */
async function withinRate(ctx: DomainContext, userId: string, rules: DiscussionRules): Promise<Result<null, "DISCUSSION_RATE_LIMITED">> {
  const now = ctx.now();
  const { count, windowStartedAt } = await countInWindow(ctx.db, `discussion-posts:${userId}`, RATE_WINDOW_SECONDS, now);
  if (count <= rules.postsPerMinute) return ok(null);
  const retry = retryAfterSeconds(windowStartedAt, now);
  return fail("DISCUSSION_RATE_LIMITED", `At most ${rules.postsPerMinute} posts a minute: try again in ${retry} s.`, { retryAfterSeconds: retry });
}

/** The post's row, its author following the topic, its mentions and the event that tells followers and the mentioned. */
async function insertPost(
  ctx: DomainContext,
  input: { topicId: string; courseId: string; parentPostId: string | null; authorUserId: string; body: string; searchText: string; language: string; mentions: string[] },
) {
  const now = ctx.now();
  const [post] = await ctx.db
    .insert(discussionPosts)
    .values({
      id: ctx.newId(),
      topicId: input.topicId,
      courseId: input.courseId,
      parentPostId: input.parentPostId,
      authorUserId: input.authorUserId,
      bodyMarkdown: input.body,
      bodyHtml: renderMarkdown(input.body),
      search: searchVector(input.language, input.searchText),
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (!post) throw new Error("insert returned no row");
  await ctx.db.insert(discussionSubscriptions).values({ topicId: input.topicId, userId: input.authorUserId, createdAt: now }).onConflictDoNothing();
  if (input.mentions.length > 0) {
    await ctx.db.insert(discussionMentions).values(input.mentions.map((userId) => ({ postId: post.id, userId }))).onConflictDoNothing();
  }
  await recordEvent(ctx, {
    type: "discussion.post-created",
    aggregateType: "discussion-topic",
    aggregateId: input.topicId,
    courseId: input.courseId,
    data: { postId: post.id, topicId: input.topicId, courseId: input.courseId },
  });
  return post;
}

/** Opens a topic: the topic row and its opening post, followed by its author. */
export async function createTopic(
  ctx: DomainContext,
  viewer: CourseViewer,
  input: NewTopic,
  rules: DiscussionRules,
): Promise<Result<{ topic: TopicView; post: PostView }, DiscussionErrorCode>> {
  const language = await courseLanguage(ctx.db, input.courseId);
  if (language === null) return fail("COURSE_NOT_FOUND");
  const mentions = await checkMentions(ctx.db, input.courseId, input.mentions ?? []);
  if (!mentions.ok) return mentions;
  const rate = await withinRate(ctx, viewer.userId, rules);
  if (!rate.ok) return rate;
  const now = ctx.now();
  const [topic] = await ctx.db
    .insert(discussionTopics)
    .values({ id: ctx.newId(), courseId: input.courseId, authorUserId: viewer.userId, title: input.title, lastPostAt: now, createdAt: now, updatedAt: now })
    .returning();
  if (!topic) throw new Error("insert returned no row");
  const post = await insertPost(ctx, {
    topicId: topic.id,
    courseId: input.courseId,
    parentPostId: null,
    authorUserId: viewer.userId,
    body: input.body,
    searchText: `${input.title} ${markdownToText(input.body)}`,
    language,
    mentions: mentions.value,
  });
  const staff = await seesAsStaff(viewer, input.courseId);
  const author = await authorById(ctx.db, post.authorUserId);
  return ok({ topic: topicView(topic, author, staff), post: postView(post, author) });
}

/**
 * Replies in a topic, to its opening post or to another post of it. A locked topic takes no more replies from
 * learners; its course's staff may still reply (to say why it was locked, or to close it with an answer).
 */
export async function replyToTopic(ctx: DomainContext, viewer: CourseViewer, input: NewReply, rules: DiscussionRules): Promise<Result<PostView, DiscussionErrorCode>> {
  const found = await visibleTopic(ctx.db, input.topicId, viewer, "update");
  if (!found.ok) return found;
  const { topic, staff } = found.value;
  if (topic.deletedAt !== null) return fail("DISCUSSION_TOPIC_NOT_FOUND");
  if (topic.locked && !staff) return fail("DISCUSSION_TOPIC_LOCKED", "The topic is locked: it takes no more replies.");
  if (input.parentPostId !== undefined) {
    const [parent] = await ctx.db
      .select({ hidden: discussionPosts.hidden })
      .from(discussionPosts)
      .where(and(eq(discussionPosts.id, input.parentPostId), eq(discussionPosts.topicId, topic.id)));
    // A hidden post is not there for learners: they cannot reply to it either.
    if (!parent || (parent.hidden && !staff)) return fail("DISCUSSION_PARENT_NOT_IN_TOPIC", "parentPostId must be a post of this topic.");
  }
  const mentions = await checkMentions(ctx.db, topic.courseId, input.mentions ?? []);
  if (!mentions.ok) return mentions;
  const rate = await withinRate(ctx, viewer.userId, rules);
  if (!rate.ok) return rate;
  const language = (await courseLanguage(ctx.db, topic.courseId)) ?? "en";
  const post = await insertPost(ctx, {
    topicId: topic.id,
    courseId: topic.courseId,
    parentPostId: input.parentPostId ?? null,
    authorUserId: viewer.userId,
    body: input.body,
    searchText: markdownToText(input.body),
    language,
    mentions: mentions.value,
  });
  await ctx.db
    .update(discussionTopics)
    .set({ replyCount: sql`${discussionTopics.replyCount} + 1`, lastPostAt: post.createdAt, updatedAt: post.createdAt })
    .where(eq(discussionTopics.id, topic.id));
  return ok(postView(post, await authorById(ctx.db, post.authorUserId)));
}
