import { and, asc, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { discussionPosts, discussionTopics, users } from "../db/schema/index.js";
import { type CourseViewer, seesAsStaff } from "../catalog/viewer.js";
import { fail, ok, type Result } from "../shared/result.js";
import { REMOVED_NOTICE } from "./discussion-rules.js";

export interface Author {
  id: string;
  displayName: string;
}

export interface TopicView {
  id: string;
  courseId: string;
  title: string;
  author: Author | null;
  pinned: boolean;
  locked: boolean;
  hidden: boolean;
  deleted: boolean;
  /** Staff only: why a moderator deleted it. */
  deleteReason: string | null;
  replyCount: number;
  lastPostAt: Date;
  createdAt: Date;
  version: number;
}

export interface PostView {
  id: string;
  topicId: string;
  parentPostId: string | null;
  author: Author | null;
  /** null once removed (by its author or a moderator): `removalNotice` says so instead. */
  bodyMarkdown: string | null;
  bodyHtml: string | null;
  removed: boolean;
  removalNotice: string | null;
  hidden: boolean;
  editedAt: Date | null;
  createdAt: Date;
  version: number;
}

export type TopicRow = typeof discussionTopics.$inferSelect;
export type PostRow = typeof discussionPosts.$inferSelect;


/** The course a topic belongs to (the access check's lookup); null when there is no such topic. */
export async function topicCourse(db: Executor, topicId: string): Promise<string | null> {
  const [row] = await db.select({ courseId: discussionTopics.courseId }).from(discussionTopics).where(eq(discussionTopics.id, topicId));
  return row?.courseId ?? null;
}

/** The course a post belongs to (the access check's lookup); null when there is no such post. */
export async function postCourse(db: Executor, postId: string): Promise<string | null> {
  const [row] = await db.select({ courseId: discussionPosts.courseId }).from(discussionPosts).where(eq(discussionPosts.id, postId));
  return row?.courseId ?? null;
}

/** Learners never see hidden or deleted topics; the course's staff (and admins) see them, marked. */
export const topicVisible = (t: Pick<TopicRow, "hidden" | "deletedAt">, staff: boolean): boolean => staff || (!t.hidden && t.deletedAt === null);

/**
 * The topic row as the viewer may see it, optionally locked (replies and moderation lock it `for update`, so a
 * lock and a reply, or two replies' counts, do not interleave).
 */
export async function visibleTopic(
  db: Executor,
  topicId: string,
  viewer: CourseViewer,
  lock?: "update",
): Promise<Result<{ topic: TopicRow; staff: boolean }, "DISCUSSION_TOPIC_NOT_FOUND">> {
  const query = db.select().from(discussionTopics).where(eq(discussionTopics.id, topicId));
  const [topic] = lock ? await query.for(lock) : await query;
  if (!topic) return fail("DISCUSSION_TOPIC_NOT_FOUND");
  const staff = await seesAsStaff(viewer, topic.courseId);
  if (!topicVisible(topic, staff)) return fail("DISCUSSION_TOPIC_NOT_FOUND");
  return ok({ topic, staff });
}

const authorOf = (id: string | null, name: string | null): Author | null => (id && name !== null ? { id, displayName: name } : null);

export function topicView(t: TopicRow, author: Author | null, staff: boolean): TopicView {
  return {
    id: t.id,
    courseId: t.courseId,
    title: t.title,
    author,
    pinned: t.pinned,
    locked: t.locked,
    hidden: t.hidden,
    deleted: t.deletedAt !== null,
    deleteReason: staff ? t.deleteReason : null,
    replyCount: t.replyCount,
    lastPostAt: t.lastPostAt,
    createdAt: t.createdAt,
    version: t.version,
  };
}

/** A post as shown: a removed one keeps its place in the thread (id, parent, author, time) without its body. */
export function postView(p: PostRow, author: Author | null): PostView {
  const removed = p.deletedAt !== null;
  return {
    id: p.id,
    topicId: p.topicId,
    parentPostId: p.parentPostId,
    author,
    bodyMarkdown: removed ? null : p.bodyMarkdown,
    bodyHtml: removed ? null : p.bodyHtml,
    removed,
    removalNotice: removed ? REMOVED_NOTICE : null,
    hidden: p.hidden,
    editedAt: p.editedAt,
    createdAt: p.createdAt,
    version: p.version,
  };
}

/** A topic's or post's author (`authorUserId`) as shown; null when there is none. */
export async function authorById(db: Executor, userId: string | null): Promise<Author | null> {
  if (!userId) return null;
  const [u] = await db.select({ id: users.id, name: users.displayName }).from(users).where(eq(users.id, userId));
  return u ? { id: u.id, displayName: u.name } : null;
}

/** Pinned first, then by last activity (newest first): the list's order and its cursor. */
export type TopicPosition = [pinned: number, lastPostAt: string, id: string];

/** A page of the course's topics (`limit + 1` rows, so the caller can tell whether there is a next page). */
export async function courseTopics(db: Executor, courseId: string, viewer: CourseViewer, page: { after?: TopicPosition; limit: number }): Promise<TopicView[]> {
  const staff = await seesAsStaff(viewer, courseId);
  const t = discussionTopics;
  const rows = await db
    .select({ topic: t, authorId: users.id, authorName: users.displayName })
    .from(t)
    .leftJoin(users, eq(users.id, t.authorUserId))
    .where(
      and(
        eq(t.courseId, courseId),
        staff ? undefined : sql`not ${t.hidden} and ${t.deletedAt} is null`,
        page.after ? sql`(${t.pinned}::int, ${t.lastPostAt}, ${t.id}) < (${page.after[0]}, ${page.after[1]}::timestamptz, ${page.after[2]}::uuid)` : undefined,
      ),
    )
    .orderBy(sql`${t.pinned} desc, ${t.lastPostAt} desc, ${t.id} desc`)
    .limit(page.limit + 1);
  return rows.map((r) => topicView(r.topic, authorOf(r.authorId, r.authorName), staff));
}

export type PostPosition = [createdAt: string, id: string];

/** A topic and a page of its posts by (created_at, id), threaded by `parentPostId`; learners do not see hidden posts. */
export async function topicWithPosts(
  db: Executor,
  topicId: string,
  viewer: CourseViewer,
  page: { after?: PostPosition; limit: number },
): Promise<Result<{ topic: TopicView; posts: PostView[] }, "DISCUSSION_TOPIC_NOT_FOUND">> {
  const found = await visibleTopic(db, topicId, viewer);
  if (!found.ok) return found;
  const { topic, staff } = found.value;
  const p = discussionPosts;
  const rows = await db
    .select({ post: p, authorId: users.id, authorName: users.displayName })
    .from(p)
    .leftJoin(users, eq(users.id, p.authorUserId))
    .where(
      and(
        eq(p.topicId, topicId),
        staff ? undefined : sql`not ${p.hidden}`,
        page.after ? sql`(${p.createdAt}, ${p.id}) > (${page.after[0]}::timestamptz, ${page.after[1]}::uuid)` : undefined,
      ),
    )
    .orderBy(asc(p.createdAt), asc(p.id))
    .limit(page.limit + 1);
  return ok({ topic: topicView(topic, await authorById(db, topic.authorUserId), staff), posts: rows.map((r) => postView(r.post, authorOf(r.authorId, r.authorName))) });
}
