import { and, eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { CourseViewer } from "../catalog/viewer.js";
import { discussionPosts, discussionTopics } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { authorById, type TopicView, topicView, visibleTopic } from "./discussion-view.js";
import type { DiscussionErrorCode } from "./discussions.errors.js";

/** What course staff do to a topic (pin, lock) or to a topic or one of its posts (hide, delete with a reason). */
export type Moderation =
  | { action: "pin" | "unpin" | "lock" | "unlock" }
  | { action: "hide" | "unhide"; postId?: string }
  | { action: "delete"; postId?: string; reason: string };

const topicChange = {
  pin: { pinned: true },
  unpin: { pinned: false },
  lock: { locked: true },
  unlock: { locked: false },
  hide: { hidden: true },
  unhide: { hidden: false },
} as const;

const audited = {
  pin: "discussion.pinned",
  unpin: "discussion.unpinned",
  lock: "discussion.locked",
  unlock: "discussion.unlocked",
  hide: "discussion.hidden",
  unhide: "discussion.unhidden",
  delete: "discussion.deleted",
} as const;

/**
 * Applies one moderation action under the topic's row lock (a reply racing a lock either lands before it or is
 * refused) and audits it with the course, the topic, the post and the reason. The caller's access policy has
 * made sure they are the course's staff. A deleted topic or post is soft-deleted: learners no longer see the
 * topic; the post keeps its place in the thread with a removal notice.
 */
export async function moderateTopic(ctx: DomainContext, viewer: CourseViewer, topicId: string, m: Moderation): Promise<Result<TopicView, DiscussionErrorCode>> {
  const found = await visibleTopic(ctx.db, topicId, viewer, "update");
  if (!found.ok) return found;
  const { topic } = found.value;
  const now = ctx.now();
  const postId = "postId" in m ? m.postId : undefined;
  if (postId !== undefined) {
    const [post] = await ctx.db
      .select({ id: discussionPosts.id })
      .from(discussionPosts)
      .where(and(eq(discussionPosts.id, postId), eq(discussionPosts.topicId, topicId)))
      .for("update");
    if (!post) return fail("DISCUSSION_POST_NOT_FOUND");
    const change =
      m.action === "delete"
        ? { deletedAt: sql`coalesce(${discussionPosts.deletedAt}, ${now.toISOString()}::timestamptz)`, deletedByUserId: viewer.userId, deleteReason: m.reason, search: sql`''::tsvector` }
        : { hidden: m.action === "hide" };
    await ctx.db
      .update(discussionPosts)
      .set({ ...change, updatedAt: now, version: sql`${discussionPosts.version} + 1` })
      .where(eq(discussionPosts.id, postId));
  }
  const topicSet =
    postId !== undefined ? {} : m.action === "delete" ? { deletedAt: topic.deletedAt ?? now, deletedByUserId: viewer.userId, deleteReason: m.reason } : topicChange[m.action];
  const [changed] = await ctx.db
    .update(discussionTopics)
    .set({ ...topicSet, updatedAt: now, version: sql`${discussionTopics.version} + 1` })
    .where(eq(discussionTopics.id, topicId))
    .returning();
  if (!changed) throw new Error("update returned no row");
  await recordAudit(ctx, {
    action: audited[m.action],
    targetType: postId !== undefined ? "discussion-post" : "discussion-topic",
    targetId: postId ?? topicId,
    details: { courseId: topic.courseId, topicId, ...(postId !== undefined ? { postId } : {}), ...(m.action === "delete" ? { reason: m.reason } : {}) },
  });
  return ok(topicView(changed, await authorById(ctx.db, changed.authorUserId), true));
}
