import { and, eq } from "drizzle-orm";
import type { CourseViewer } from "../catalog/viewer.js";
import { discussionSubscriptions } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { ok, type Result } from "../shared/result.js";
import { visibleTopic } from "./discussion-view.js";

/** Follows a topic (new replies notify the follower); following it again changes nothing. */
export async function followTopic(ctx: DomainContext, viewer: CourseViewer, topicId: string): Promise<Result<null, "DISCUSSION_TOPIC_NOT_FOUND">> {
  const found = await visibleTopic(ctx.db, topicId, viewer);
  if (!found.ok) return found;
  await ctx.db.insert(discussionSubscriptions).values({ topicId, userId: viewer.userId, createdAt: ctx.now() }).onConflictDoNothing();
  return ok(null);
}

/** Stops following a topic (mentions still notify); not following it already changes nothing. */
export async function unfollowTopic(ctx: DomainContext, viewer: CourseViewer, topicId: string): Promise<Result<null, "DISCUSSION_TOPIC_NOT_FOUND">> {
  const found = await visibleTopic(ctx.db, topicId, viewer);
  if (!found.ok) return found;
  await ctx.db.delete(discussionSubscriptions).where(and(eq(discussionSubscriptions.topicId, topicId), eq(discussionSubscriptions.userId, viewer.userId)));
  return ok(null);
}
