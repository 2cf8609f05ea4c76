import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDate, formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";

const day = 86_400_000;

/** Monday 00:00 (local time) of the week holding `date`. */
function weekStart(date: Date): Date {
  const start = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  start.setDate(start.getDate() - ((start.getDay() + 6) % 7));
  return start;
}

/** `YYYY-MM-DD` of a local date, for the `week` query parameter. */
function isoDay(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
}

/** The week from the `week` query parameter (any day of it), or this week when it is absent or not a date. */
function weekOf(param: string | undefined): Date {
  const [y, m, d] = (param ?? "").split("-").map(Number);
  const parsed = y && m && d ? new Date(y, m - 1, d) : new Date();
  return weekStart(Number.isNaN(parsed.getTime()) ? new Date() : parsed);
}

/** My class sessions and due dates, a week at a time, and my calendar feed (the secret URL is shown once). */
export default function Schedule() {
  const { query } = useLocation();
  const from = weekOf(query.week);
  const to = new Date(from.getTime() + 7 * day);
  const week = isoDay(from);
  const schedule = useApi(() => api.GET("/v1/me/schedule", { params: { query: { from: from.toISOString(), to: to.toISOString() } } }), [week]);
  const prev = isoDay(new Date(from.getTime() - 7 * day));
  const next = isoDay(new Date(from.getTime() + 7 * day));

  return (
    <Page title="Schedule">
      <nav aria-label="Weeks">
        <ul>
          <li>
            <a href={`/schedule?week=${prev}`}>Previous week</a>
          </li>
          <li>
            <a href="/schedule">This week</a>
          </li>
          <li>
            <a href={`/schedule?week=${next}`}>Next week</a>
          </li>
        </ul>
      </nav>
      <p>
        Week of {formatDate(from.toISOString())} to {formatDate(new Date(to.getTime() - day).toISOString())}
      </p>
      {schedule.loading && !schedule.data ? <Loading what="Loading the schedule" /> : null}
      <Problem problem={schedule.problem} />
      {schedule.data ? (
        <>
          <h2>Class sessions</h2>
          {schedule.data.sessions.length === 0 ? (
            <p>No class sessions this week.</p>
          ) : (
            <ul class="card-list" aria-label="Class sessions">
              {schedule.data.sessions.map((s) => (
                <li key={s.sessionId}>
                  <article>
                    <h3>{s.title}</h3>
                    <p>
                      {formatDateTime(s.startsAt)} – {formatDateTime(s.endsAt)}
                      {s.status === "cancelled" ? <strong> · Cancelled{s.cancelReason ? `: ${s.cancelReason}` : ""}</strong> : null}
                    </p>
                    <p class="muted">
                      {s.courseTitle}
                      {s.location ? ` · ${s.location}` : ""}
                    </p>
                    <p>
                      {s.onlineUrl ? (
                        <>
                          <a href={s.onlineUrl}>Join online: {s.title}</a> ·{" "}
                        </>
                      ) : null}
                      {s.role === "learner" && s.status === "scheduled" ? <a href={`/sessions/${s.sessionId}/check-in`}>Check in to {s.title}</a> : null}
                    </p>
                  </article>
                </li>
              ))}
            </ul>
          )}
          <h2>Due dates</h2>
          {schedule.data.dueDates.length === 0 ? (
            <p>Nothing is due this week.</p>
          ) : (
            <ul aria-label="Due dates">
              {schedule.data.dueDates.map((d) => (
                <li key={d.assessmentId}>
                  <a href={`/assessments/${d.assessmentId}`}>{d.title}</a> ({d.courseTitle}): due {formatDateTime(d.dueAt)}
                </li>
              ))}
            </ul>
          )}
          {schedule.data.truncated ? <p class="muted">Only the first entries of this week are shown.</p> : null}
        </>
      ) : null}
      <CalendarFeed />
    </Page>
  );
}

/** The calendar feed: make one (its URL is answered only then), replace it, or revoke it. */
function CalendarFeed() {
  const feed = useApi(() => api.GET("/v1/me/calendar-feed"), []);
  const action = useAction();
  const [url, setUrl] = useState<string | null>(null);
  const [status, setStatus] = useState("");

  const make = async () => {
    const made = await action.run(() => api.POST("/v1/me/calendar-feed"));
    if (made) {
      setUrl(made.url);
      setStatus(made.replaced ? "A new feed URL replaces the old one, which no longer works." : "Your calendar feed is ready.");
      feed.reload();
    }
  };
  const revoke = async () => {
    if (await action.run(() => api.DELETE("/v1/me/calendar-feed"))) {
      setUrl(null);
      setStatus("Your calendar feed is revoked: its URL no longer works.");
      feed.reload();
    }
  };

  return (
    <section aria-labelledby="feed-heading">
      <h2 id="feed-heading">Calendar feed</h2>
      <p>Subscribe to your schedule in a calendar app with a secret URL. Anyone with the URL can read your schedule.</p>
      <p role="status">{status}</p>
      <Problem problem={action.problem ?? feed.problem} />
      {url ? (
        <label>
          Your feed URL (copy it now: it is shown only once)
          <input type="text" readOnly value={url} onFocus={(e) => e.currentTarget.select()} />
        </label>
      ) : null}
      {feed.data?.active ? <p>You have a feed, made {formatDateTime(feed.data.createdAt)}; last read by a calendar {formatDateTime(feed.data.lastFetchedAt)}.</p> : null}
      <div role="group">
        <button type="button" onClick={make} disabled={action.pending}>
          {feed.data?.active ? "Make a new feed URL" : "Make a calendar feed"}
        </button>
        {feed.data?.active ? (
          <button type="button" class="secondary" onClick={revoke} disabled={action.pending}>
            Revoke the feed
          </button>
        ) : null}
      </div>
    </section>
  );
}
