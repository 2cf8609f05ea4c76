import { z } from "zod";
import { postCourse } from "../../domain/discussions/discussion-view.js";
import { deleteOwnPost, editPost } from "../../domain/discussions/edit-posts.js";
import { courseMember, type Locator } from "../platform/http/access.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { discussionRules, editBody, POST_BODY_LIMIT_BYTES, postOut, postSchema } from "./schemas/discussions.js";
import { expectedVersion, versionEtag } from "./schemas/section.js";

const postParams = z.object({ postId: z.uuid() });
const thePostsCourse: Locator = { describe: "the post's course", resolve: (params, db) => postCourse(db, params.postId as string) };

route({
  name: "discussion-posts-update",
  method: "PATCH",
  path: "/v1/discussion-posts/{postId}",
  access: courseMember(thePostsCourse),
  summary: "Edit your post within the edit window (DISCUSSION_EDIT_WINDOW_MINUTES after posting)",
  description: "Send the post's ETag as If-Match: a post changed since then answers 412. Only the author edits a post (anyone else's: 404); it is marked edited.",
  tags: ["discussions"],
  conditional: "update",
  params: postParams,
  body: editBody,
  bodyLimitBytes: POST_BODY_LIMIT_BYTES,
  responses: {
    200: { description: "Edited", body: postSchema },
    404: { description: "`DISCUSSION_POST_NOT_FOUND`" },
    409: { description: "`DISCUSSION_EDIT_WINDOW_CLOSED`, `DISCUSSION_POST_DELETED`, `DISCUSSION_TOPIC_LOCKED`" },
    413: { description: "`PAYLOAD_TOO_LARGE`" },
  },
  handler: async ({ params, body, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    const post = unwrap(
      await ctx.transaction((tx) => editPost(ctx.domain(tx), ctx.caller, { postId: params.postId, body: body.body, expectedVersion: version }, discussionRules(ctx.platform.settings))),
    );
    return { status: 200, body: postOut(post), headers: { etag: versionEtag(post) } };
  },
});

route({
  name: "discussion-posts-delete",
  method: "DELETE",
  path: "/v1/discussion-posts/{postId}",
  access: courseMember(thePostsCourse),
  summary: "Remove your post: its body is replaced by a removal notice, replies to it stay in place",
  description: "Only the author removes their post this way (anyone else's: 404); moderators delete through the topic's moderation, with a reason.",
  tags: ["discussions"],
  conditional: "update",
  params: postParams,
  responses: { 204: { description: "Removed" }, 404: { description: "`DISCUSSION_POST_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    unwrap(await ctx.transaction((tx) => deleteOwnPost(ctx.domain(tx), ctx.caller, { postId: params.postId, expectedVersion: version })));
    return { status: 204 };
  },
});
