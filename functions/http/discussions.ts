import { z } from "zod";
import { courseTopics, topicCourse, topicWithPosts } from "../../domain/discussions/discussion-view.js";
import { courseMembers } from "../../domain/discussions/members.js";
import { moderateTopic } from "../../domain/discussions/moderate.js";
import { createTopic, replyToTopic } from "../../domain/discussions/post-discussions.js";
import { searchPosts } from "../../domain/discussions/search-posts.js";
import { followTopic, unfollowTopic } from "../../domain/discussions/subscriptions.js";
import { courseMember, courseStaff, type Locator } from "../platform/http/access.js";
import { decodeCursorAs, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { discussionRules, hitOut, moderationBody, POST_BODY_LIMIT_BYTES, postOut, postSchema, replyBody, searchHitSchema, topicBody, topicOut, topicSchema } from "./schemas/discussions.js";
import { versionEtag } from "./schemas/section.js";

const courseParams = z.object({ courseId: z.uuid() });
const topicParams = z.object({ topicId: z.uuid() });
const theTopicsCourse: Locator = { describe: "the topic's course", resolve: (params, db) => topicCourse(db, params.topicId as string) };
const MEMBERS_LIMIT = 20;

const postingProblems = {
  413: { description: "`PAYLOAD_TOO_LARGE`: the request is larger than a post can be" },
  422: { description: "`MENTION_NOT_MEMBER`: a mentioned user is not an active learner or staff member of the course (`notMembers` lists them)" },
  429: { description: "`DISCUSSION_RATE_LIMITED`: more than `DISCUSSION_POSTS_PER_MINUTE` topics and replies in a minute (Retry-After)" },
};

route({
  name: "discussion-topics-create",
  method: "POST",
  path: "/v1/courses/{courseId}/discussions",
  access: courseMember(),
  summary: "Open a discussion topic in the course's forum (its staff and active learners)",
  description: "The body is Markdown, rendered to sanitised HTML (raw HTML is shown as text). The author follows the topic. Mentioned members are notified.",
  tags: ["discussions"],
  idempotent: true,
  params: courseParams,
  body: topicBody,
  bodyLimitBytes: POST_BODY_LIMIT_BYTES,
  responses: {
    201: { description: "Opened", body: z.object({ topic: topicSchema, post: postSchema }) },
    404: { description: "`COURSE_NOT_FOUND`" },
    ...postingProblems,
  },
  handler: async ({ params, body }, ctx) => {
    const made = unwrap(await ctx.transaction((tx) => createTopic(ctx.domain(tx), ctx.caller, { courseId: params.courseId, ...body }, discussionRules(ctx.platform.settings))));
    return { status: 201, body: { topic: topicOut(made.topic), post: postOut(made.post) }, headers: { location: `/api/v1/discussions/${made.topic.id}` } };
  },
});

route({
  name: "discussion-topics-list",
  method: "GET",
  path: "/v1/courses/{courseId}/discussions",
  access: courseMember(),
  summary: "The course's discussion topics: pinned first, then by last activity",
  description: "Learners do not see hidden or deleted topics; staff see them, marked.",
  tags: ["discussions"],
  params: courseParams,
  query: z.object(pageQuery),
  responses: { 200: { description: "Topics", body: pageOf(topicSchema) }, 400: { description: "`INVALID_CURSOR`" } },
  handler: async ({ params, query, request }, ctx) => {
    const after = decodeCursorAs(query.cursor, z.tuple([z.number().int().min(0).max(1), z.iso.datetime(), z.uuid()]));
    const rows = await courseTopics(ctx.db, params.courseId, ctx.caller, { after, limit: query.limit });
    const page = paginate(rows, query.limit, (t) => [t.pinned ? 1 : 0, t.lastPostAt.toISOString(), t.id]);
    return { status: 200, body: { items: page.items.map(topicOut), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "discussion-members-list",
  method: "GET",
  path: "/v1/courses/{courseId}/discussions/members",
  access: courseMember(),
  summary: "Course members to mention: id and display name of active learners and staff whose name contains q",
  tags: ["discussions"],
  params: courseParams,
  query: z.object({ q: z.string().max(100).default("") }),
  responses: { 200: { description: `At most ${MEMBERS_LIMIT}, by name`, body: z.object({ items: z.array(z.object({ id: z.uuid(), displayName: z.string() })) }) } },
  handler: async ({ params, query }, ctx) => ({ status: 200, body: { items: await courseMembers(ctx.db, params.courseId, query.q, MEMBERS_LIMIT) } }),
});

route({
  name: "discussion-posts-search",
  method: "GET",
  path: "/v1/courses/{courseId}/discussions/search",
  access: courseMember(),
  summary: "Full-text search over the course's posts, in the course's language (stemmed), best first",
  description:
    "`q` is a web-search style query (words, \"quoted phrases\", -excluded, or). Words are matched by their stem in the course's language (`es`: Spanish, `en`: English, some others; other languages as written). Learners find what they can see: no hidden topics or posts; removed posts are never found. Each hit's `snippet` is plain text (the post's text without its Markdown) with the matched words between `**` marks: never HTML, so show it as text.",
  tags: ["discussions"],
  params: courseParams,
  query: z.object({ q: z.string().max(1000), limit: z.coerce.number().int().min(1).max(50).default(20) }),
  responses: {
    200: { description: "Matching posts", body: z.object({ items: z.array(searchHitSchema) }) },
    404: { description: "`COURSE_NOT_FOUND`" },
    422: { description: "`DISCUSSION_SEARCH_INVALID`: q is empty or longer than 200 characters" },
  },
  handler: async ({ params, query }, ctx) => {
    const hits = unwrap(await searchPosts(ctx.db, params.courseId, ctx.caller, query));
    return { status: 200, body: { items: hits.map(hitOut) } };
  },
});

route({
  name: "discussion-topics-get",
  method: "GET",
  path: "/v1/discussions/{topicId}",
  access: courseMember(theTopicsCourse),
  summary: "A topic with a page of its posts, oldest first (threaded by parentPostId)",
  description: "Learners do not see hidden posts; a removed post keeps its place with a removal notice instead of its body. Each post carries its ETag for edits.",
  tags: ["discussions"],
  params: topicParams,
  query: z.object(pageQuery),
  responses: {
    200: { description: "The topic and posts", body: z.object({ topic: topicSchema, posts: pageOf(postSchema) }) },
    400: { description: "`INVALID_CURSOR`" },
    404: { description: "`DISCUSSION_TOPIC_NOT_FOUND`" },
  },
  handler: async ({ params, query, request }, ctx) => {
    const after = decodeCursorAs(query.cursor, z.tuple([z.iso.datetime(), z.uuid()]));
    const found = unwrap(await topicWithPosts(ctx.db, params.topicId, ctx.caller, { after, limit: query.limit }));
    const page = paginate(found.posts, query.limit, (p) => [p.createdAt.toISOString(), p.id]);
    return { status: 200, body: { topic: topicOut(found.topic), posts: { items: page.items.map(postOut), nextCursor: page.nextCursor } }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "discussion-posts-create",
  method: "POST",
  path: "/v1/discussions/{topicId}/posts",
  access: courseMember(theTopicsCourse),
  summary: "Reply in a topic (to its opening post, or to one of its posts with parentPostId)",
  description: "The replier follows the topic; its followers (but the replier) and the mentioned are notified. A locked topic takes replies from its course's staff only.",
  tags: ["discussions"],
  idempotent: true,
  params: topicParams,
  body: replyBody,
  bodyLimitBytes: POST_BODY_LIMIT_BYTES,
  responses: {
    201: { description: "Posted", body: postSchema },
    404: { description: "`DISCUSSION_TOPIC_NOT_FOUND`" },
    409: { description: "`DISCUSSION_TOPIC_LOCKED`" },
    ...postingProblems,
    422: { description: "`DISCUSSION_PARENT_NOT_IN_TOPIC`, `MENTION_NOT_MEMBER`" },
  },
  handler: async ({ params, body }, ctx) => {
    const post = unwrap(await ctx.transaction((tx) => replyToTopic(ctx.domain(tx), ctx.caller, { topicId: params.topicId, ...body }, discussionRules(ctx.platform.settings))));
    return { status: 201, body: postOut(post), headers: { etag: versionEtag(post) } };
  },
});

route({
  name: "discussion-subscription-put",
  method: "PUT",
  path: "/v1/discussions/{topicId}/subscription",
  access: courseMember(theTopicsCourse),
  summary: "Follow a topic: new replies notify you (authors and repliers follow automatically)",
  tags: ["discussions"],
  params: topicParams,
  responses: { 204: { description: "Following" }, 404: { description: "`DISCUSSION_TOPIC_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => followTopic(ctx.domain(tx), ctx.caller, params.topicId)));
    return { status: 204 };
  },
});

route({
  name: "discussion-subscription-delete",
  method: "DELETE",
  path: "/v1/discussions/{topicId}/subscription",
  access: courseMember(theTopicsCourse),
  summary: "Stop following a topic (mentions still notify you)",
  tags: ["discussions"],
  params: topicParams,
  responses: { 204: { description: "Not following" }, 404: { description: "`DISCUSSION_TOPIC_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => unfollowTopic(ctx.domain(tx), ctx.caller, params.topicId)));
    return { status: 204 };
  },
});

route({
  name: "discussion-moderation",
  method: "POST",
  path: "/v1/discussions/{topicId}/moderation",
  access: courseStaff(["instructor", "grader"], theTopicsCourse),
  summary: "Moderate a topic or one of its posts: pin, unpin, lock, unlock, hide, unhide, delete (with a reason)",
  description:
    "One action per call, audited (`discussion.pinned` … `discussion.deleted`, with the reason). Hidden: only the course's staff see it. Deleted (soft): a topic disappears for learners; a post keeps its place with a removal notice.",
  tags: ["discussions"],
  params: topicParams,
  body: moderationBody,
  responses: { 200: { description: "The topic after the action", body: topicSchema }, 404: { description: "`DISCUSSION_TOPIC_NOT_FOUND`, `DISCUSSION_POST_NOT_FOUND` (not a post of this topic)" } },
  handler: async ({ params, body }, ctx) => {
    const topic = unwrap(await ctx.transaction((tx) => moderateTopic(ctx.domain(tx), ctx.caller, params.topicId, body)));
    return { status: 200, body: topicOut(topic) };
  },
});
