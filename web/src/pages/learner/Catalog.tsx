import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Pager } from "../../components/Pager";
import { Problem } from "../../components/Problem";
import { useApi } from "../../lib/use-api";

/** The catalog: published courses, searched by words in title and description, a page at a time. */
export default function Catalog() {
  const { query, route } = useLocation();
  const q = query.q ?? "";
  const cursor = query.cursor;
  const [text, setText] = useState(q);
  const courses = useApi(() => api.GET("/v1/courses", { params: { query: { q: q || undefined, cursor, limit: 20 } } }), [q, cursor]);

  const search = (e: Event) => {
    e.preventDefault();
    const words = text.trim();
    route(words ? `/courses?q=${encodeURIComponent(words)}` : "/courses");
  };

  return (
    <Page title="Catalog">
      <form role="search" onSubmit={search}>
        <fieldset role="group">
          <label for="catalog-q" class="visually-hidden">
            Search courses
          </label>
          <input id="catalog-q" type="search" name="q" placeholder="Search courses" value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <button type="submit">Search</button>
        </fieldset>
      </form>
      {courses.loading ? <Loading what="Loading courses" /> : null}
      <Problem problem={courses.problem} />
      {courses.data ? (
        courses.data.items.length === 0 ? (
          <p role="status">No course matches{q ? ` “${q}”` : ""}.</p>
        ) : (
          <ul class="card-list" aria-label="Courses">
            {courses.data.items.map((c) => (
              <li key={c.id}>
                <article>
                  <h2>
                    <a href={`/courses/${c.id}`}>{c.title}</a>
                  </h2>
                  {c.code ? <p class="muted">{c.code}</p> : null}
                  <p>{c.description}</p>
                  <p class="muted">
                    {c.seatsAvailable == null ? "Open enrollment" : c.seatsAvailable > 0 ? `${c.seatsAvailable} seats left` : c.waitlistEnabled ? "Full: waitlist open" : "Full"}
                    {c.status === "draft" ? " · Draft" : ""}
                  </p>
                </article>
              </li>
            ))}
          </ul>
        )
      ) : null}
      <Pager path="/courses" query={{ q: q || undefined, cursor }} nextCursor={courses.data?.nextCursor} />
    </Page>
  );
}
