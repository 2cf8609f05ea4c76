import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Pager } from "../../components/Pager";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useApi } from "../../lib/use-api";

/** A course's forum: its topics (pinned first, then by last activity), and a search over its posts. */
export default function Forum({ courseId }: { courseId: string }) {
  const { query, route } = useLocation();
  const q = query.q ?? "";
  const cursor = query.cursor;
  const [text, setText] = useState(q);
  const topics = useApi(() => api.GET("/v1/courses/{courseId}/discussions", { params: { path: { courseId }, query: { cursor, limit: 20 } } }), [courseId, cursor]);
  const base = `/courses/${courseId}/discussions`;

  const search = (e: Event) => {
    e.preventDefault();
    const words = text.trim();
    route(words ? `${base}?q=${encodeURIComponent(words)}` : base);
  };

  return (
    <Page title="Discussions">
      <p>
        <a href={`/courses/${courseId}`}>Back to the course</a> · <a href={`/courses/${courseId}/announcements`}>Announcements</a>
      </p>
      <form role="search" onSubmit={search}>
        <fieldset role="group">
          <label for="forum-q" class="visually-hidden">
            Search the discussions
          </label>
          <input id="forum-q" type="search" placeholder="Search the discussions" value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <button type="submit">Search</button>
        </fieldset>
      </form>
      {q ? <SearchResults courseId={courseId} q={q} base={base} /> : null}
      <h2>Topics</h2>
      {topics.loading && !topics.data ? <Loading what="Loading topics" /> : null}
      <Problem problem={topics.problem} />
      {topics.data ? (
        topics.data.items.length === 0 ? (
          <p>No topics yet.</p>
        ) : (
          <ul class="card-list" aria-label="Topics">
            {topics.data.items.map((t) => (
              <li key={t.id}>
                <article>
                  <h3>
                    {t.pinned ? <mark>Pinned</mark> : null} {t.locked ? <mark>Locked</mark> : null} <a href={`/discussions/${t.id}`}>{t.title}</a>
                  </h3>
                  <p class="muted">
                    {t.author?.displayName ?? "Former member"} · {t.replyCount === 1 ? "1 reply" : `${t.replyCount} replies`} · last post {formatDateTime(t.lastPostAt)}
                  </p>
                </article>
              </li>
            ))}
          </ul>
        )
      ) : null}
      <Pager path={base} query={query} nextCursor={topics.data?.nextCursor} nextLabel="More topics" />
    </Page>
  );
}

/** Posts matching the words, best first (the API's snippets mark matches with ** as plain text). */
function SearchResults({ courseId, q, base }: { courseId: string; q: string; base: string }) {
  const found = useApi(() => api.GET("/v1/courses/{courseId}/discussions/search", { params: { path: { courseId }, query: { q, limit: 20 } } }), [courseId, q]);
  return (
    <section aria-labelledby="found-heading">
      <h2 id="found-heading">Posts matching “{q}”</h2>
      {found.loading ? <Loading what="Searching" /> : null}
      <Problem problem={found.problem} />
      {found.data ? (
        found.data.items.length === 0 ? (
          <p role="status">No post matches “{q}”.</p>
        ) : (
          <ul aria-label="Matching posts">
            {found.data.items.map((hit) => (
              <li key={hit.postId}>
                <a href={`/discussions/${hit.topicId}`}>{hit.topicTitle}</a>: {hit.snippet}
              </li>
            ))}
          </ul>
        )
      ) : null}
      <p>
        <a href={base}>Clear the search</a>
      </p>
    </section>
  );
}
