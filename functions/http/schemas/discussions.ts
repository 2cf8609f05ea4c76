import { z } from "zod";
import { BODY_MAX, type DiscussionRules, MENTIONS_MAX, TITLE_MAX } from "../../../domain/discussions/discussion-rules.js";
import type { PostView, TopicView } from "../../../domain/discussions/discussion-view.js";
import type { SearchHit } from "../../../domain/discussions/search-posts.js";
import type { Settings } from "../../platform/settings.js";
import { versionEtag } from "./section.js";
import { line } from "./text.js";

/** Posts are Markdown of at most 20,000 characters: a larger request is refused before it is parsed (413). */
export const POST_BODY_LIMIT_BYTES = 256 * 1024;

export const discussionRules = (s: Settings): DiscussionRules => ({ editWindowMinutes: s.DISCUSSION_EDIT_WINDOW_MINUTES, postsPerMinute: s.DISCUSSION_POSTS_PER_MINUTE });

const iso = z.iso.datetime();
const author = z.object({ id: z.uuid(), displayName: z.string() }).nullable().meta({ description: "null: the account was erased" });

export const topicSchema = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    title: z.string(),
    author,
    pinned: z.boolean(),
    locked: z.boolean().meta({ description: "No more replies from learners (staff may still reply)" }),
    hidden: z.boolean().meta({ description: "Only the course's staff see it" }),
    deleted: z.boolean().meta({ description: "Deleted by a moderator: only staff see it" }),
    deleteReason: z.string().nullable().meta({ description: "Staff only" }),
    replyCount: z.number().int(),
    lastPostAt: iso,
    createdAt: iso,
    version: z.number().int(),
  })
  .meta({ id: "DiscussionTopic" });

export const postSchema = z
  .object({
    id: z.uuid(),
    topicId: z.uuid(),
    parentPostId: z.uuid().nullable().meta({ description: "null: the topic's opening post" }),
    author,
    bodyMarkdown: z.string().nullable().meta({ description: "null once removed" }),
    bodyHtml: z.string().nullable().meta({ description: "The Markdown rendered and sanitised (no raw HTML, no scripts); null once removed" }),
    removed: z.boolean(),
    removalNotice: z.string().nullable(),
    hidden: z.boolean(),
    editedAt: iso.nullable(),
    createdAt: iso,
    version: z.number().int(),
    etag: z.string().meta({ description: "Send as If-Match to edit or delete it" }),
  })
  .meta({ id: "DiscussionPost" });

export const searchHitSchema = z
  .object({
    postId: z.uuid(),
    topicId: z.uuid(),
    topicTitle: z.string(),
    rank: z.number(),
    snippet: z.string().meta({ description: "The post's plain text (its Markdown rendered to text, so no Markdown syntax or link targets) around the matches, each between `**` marks. Not HTML: show it as text (it may contain `<` and `>` the author typed)" }),
    createdAt: iso,
  })
  .meta({ id: "DiscussionSearchHit" });

const body = z.string().min(1).max(BODY_MAX).meta({ description: `Markdown, at most ${BODY_MAX} characters; raw HTML is shown as text` });
const mentions = z
  .array(z.uuid())
  .max(MENTIONS_MAX)
  .optional()
  .meta({ description: `Members of the course (active learners, staff) the post mentions, at most ${MENTIONS_MAX}; each is notified once` });

export const topicBody = z.object({ title: line(TITLE_MAX), body, mentions });
export const replyBody = z.object({ body, parentPostId: z.uuid().optional().meta({ description: "The post replied to (of the same topic); omitted: the opening post" }), mentions });
export const editBody = z.object({ body });

export const moderationBody = z
  .discriminatedUnion("action", [
    z.object({ action: z.enum(["pin", "unpin", "lock", "unlock"]) }),
    z.object({ action: z.enum(["hide", "unhide"]), postId: z.uuid().optional() }),
    z.object({ action: z.literal("delete"), postId: z.uuid().optional(), reason: z.string().trim().min(1).max(500) }),
  ])
  .meta({ description: "pin/unpin and lock/unlock act on the topic; hide/unhide and delete on the topic, or on one of its posts with `postId`. delete needs a reason." });

export const topicOut = (t: TopicView): z.infer<typeof topicSchema> => ({ ...t, lastPostAt: t.lastPostAt.toISOString(), createdAt: t.createdAt.toISOString() });
export const postOut = (p: PostView): z.infer<typeof postSchema> => ({
  ...p,
  editedAt: p.editedAt?.toISOString() ?? null,
  createdAt: p.createdAt.toISOString(),
  etag: versionEtag(p),
});
export const hitOut = (h: SearchHit): z.infer<typeof searchHitSchema> => ({ ...h, createdAt: h.createdAt.toISOString() });
