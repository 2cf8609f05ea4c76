import { and, asc, eq } from "drizzle-orm";
import { courses, discussionPosts } from "../db/schema/index.js";
import { after, byId, PAGE } from "../privacy/pages.js";
import type { PersonalDataPart } from "../privacy/personal-data.js";

/** The data export's part for discussions: the person's own posts (removed ones included), with their topic. */
export const discussionsPart: PersonalDataPart = {
  name: "discussions",
  file: "discussion-posts.json",
  description: "Your discussion posts: the course, the topic's id, what you wrote (Markdown), when, and whether it was edited or removed.",
  pages: ({ db }, userId) =>
    byId((afterId) =>
      db
        .select({
          id: discussionPosts.id,
          courseId: discussionPosts.courseId,
          course: courses.title,
          topicId: discussionPosts.topicId,
          parentPostId: discussionPosts.parentPostId,
          body: discussionPosts.bodyMarkdown,
          createdAt: discussionPosts.createdAt,
          editedAt: discussionPosts.editedAt,
          deletedAt: discussionPosts.deletedAt,
        })
        .from(discussionPosts)
        .innerJoin(courses, eq(courses.id, discussionPosts.courseId))
        .where(and(eq(discussionPosts.authorUserId, userId), after(discussionPosts.id, afterId)))
        .orderBy(asc(discussionPosts.id))
        .limit(PAGE),
    ),
};
