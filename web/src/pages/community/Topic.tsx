import { useLocation } from "preact-iso";
import { useRef, useState } from "preact/hooks";
import { api, type Schemas } from "../../api/client";
import { fieldError } from "../../components/Field";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Pager } from "../../components/Pager";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";
import { useIdempotencyKey } from "../../lib/use-idempotency-key";
import "./community.css";

type Post = Schemas["DiscussionPost"];

/** The posts as a tree by parentPostId, in the API's order (oldest first); a reply whose parent is on another page is a root here. */
function thread(posts: Post[]): { roots: Post[]; children: Map<string, Post[]> } {
  const ids = new Set(posts.map((p) => p.id));
  const children = new Map<string, Post[]>();
  const roots: Post[] = [];
  for (const post of posts) {
    if (post.parentPostId && ids.has(post.parentPostId)) children.set(post.parentPostId, [...(children.get(post.parentPostId) ?? []), post]);
    else roots.push(post);
  }
  return { roots, children };
}

/** A discussion topic with its posts (threaded), a reply form, and follow / unfollow. */
export default function Topic({ topicId }: { topicId: string }) {
  const { query } = useLocation();
  const cursor = query.cursor;
  const topic = useApi(() => api.GET("/v1/discussions/{topicId}", { params: { path: { topicId }, query: { cursor, limit: 50 } } }), [topicId, cursor]);
  const reply = useAction();
  const follow = useAction();
  const [body, setBody] = useState("");
  const [replyTo, setReplyTo] = useState<Post | null>(null);
  const [status, setStatus] = useState("");
  const textarea = useRef<HTMLTextAreaElement>(null);
  const replyKey = useIdempotencyKey([topicId, body, replyTo?.id]);

  const send = async (e: Event) => {
    e.preventDefault();
    const posted = await reply.run(() =>
      api.POST("/v1/discussions/{topicId}/posts", {
        params: { path: { topicId }, header: { "Idempotency-Key": replyKey } },
        body: { body, ...(replyTo ? { parentPostId: replyTo.id } : {}) },
      }),
    );
    if (posted) {
      setBody("");
      setReplyTo(null);
      setStatus("Your reply is posted.");
      topic.reload();
    }
  };
  const setFollowing = async (on: boolean) => {
    const done = await follow.run(() => (on ? api.PUT("/v1/discussions/{topicId}/subscription", { params: { path: { topicId } } }) : api.DELETE("/v1/discussions/{topicId}/subscription", { params: { path: { topicId } } })));
    if (done) setStatus(on ? "You follow this topic: new replies will notify you." : "You no longer follow this topic.");
  };
  const answer = (post: Post) => {
    setReplyTo(post);
    textarea.current?.focus();
  };

  const data = topic.data;
  const tree = data ? thread(data.posts.items) : null;
  const renderPost = (post: Post) => (
    <li key={post.id}>
      <article>
        <p class="muted">
          <strong>{post.author?.displayName ?? "Former member"}</strong> · {formatDateTime(post.createdAt)}
          {post.editedAt ? ` · edited ${formatDateTime(post.editedAt)}` : ""}
        </p>
        {post.removed || post.bodyHtml == null ? (
          <p>
            <em>{post.removalNotice ?? "This post was removed."}</em>
          </p>
        ) : (
          // bodyHtml is rendered by the API from markdown through its sanitizer (domain/shared/markdown.ts).
          <div dangerouslySetInnerHTML={{ __html: post.bodyHtml }} />
        )}
        {data && !data.topic.locked && !post.removed ? (
          <button type="button" class="secondary outline" onClick={() => answer(post)}>
            Reply to {post.author?.displayName ?? "this post"}
          </button>
        ) : null}
      </article>
      {tree?.children.get(post.id)?.length ? <ul class="thread">{tree.children.get(post.id)!.map(renderPost)}</ul> : null}
    </li>
  );

  return (
    <Page title={data?.topic.title ?? "Discussion"}>
      {data ? (
        <p>
          <a href={`/courses/${data.topic.courseId}/discussions`}>All topics of the course</a>
        </p>
      ) : null}
      {topic.loading && !data ? <Loading what="Loading the topic" /> : null}
      <Problem problem={topic.problem} />
      <p role="status">{status}</p>
      <Problem problem={follow.problem} />
      {data ? (
        <>
          <p class="muted">
            Started by {data.topic.author?.displayName ?? "a former member"} on {formatDateTime(data.topic.createdAt)} · {data.topic.replyCount === 1 ? "1 reply" : `${data.topic.replyCount} replies`}
            {data.topic.locked ? " · Locked: no new replies" : ""}
          </p>
          <div role="group" aria-label="Following">
            <button type="button" class="secondary" onClick={() => void setFollowing(true)} disabled={follow.pending}>
              Follow this topic
            </button>
            <button type="button" class="secondary outline" onClick={() => void setFollowing(false)} disabled={follow.pending}>
              Unfollow
            </button>
          </div>
          <h2>Posts</h2>
          <ul class="card-list thread" aria-label="Posts">
            {tree!.roots.map(renderPost)}
          </ul>
          <Pager path={`/discussions/${topicId}`} query={query} nextCursor={data.posts.nextCursor} nextLabel="Later posts" />
          {data.topic.locked ? null : (
            <form onSubmit={send}>
              <h2>Reply</h2>
              {replyTo ? (
                <p>
                  Replying to {replyTo.author?.displayName ?? "a post"}.{" "}
                  <button type="button" class="secondary outline" onClick={() => setReplyTo(null)}>
                    Reply to the topic instead
                  </button>
                </p>
              ) : null}
              <label for="reply-body">
                Your reply (Markdown)
                <textarea
                  id="reply-body"
                  ref={textarea}
                  required
                  rows={5}
                  value={body}
                  aria-invalid={fieldError(reply.problem, "body.body") ? true : undefined}
                  onInput={(e) => setBody(e.currentTarget.value)}
                />
              </label>
              <Problem problem={reply.problem} />
              <button type="submit" disabled={reply.pending || body.trim() === ""}>
                Post the reply
              </button>
            </form>
          )}
        </>
      ) : null}
    </Page>
  );
}
