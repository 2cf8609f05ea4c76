import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api, type Schemas } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Pager } from "../../components/Pager";
import { Problem } from "../../components/Problem";
import { useFocusAfterAction } from "../../lib/focus";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";
import { inboxChanged } from "../../lib/unread-count";

type Notification = Schemas["InboxNotification"];

/** A link of a notification as an in-app path when it points into this app (emails carry absolute URLs). */
function inAppPath(url: string): string | null {
  const target = new URL(url, location.origin);
  return target.origin === location.origin ? `${target.pathname}${target.search}${target.hash}` : null;
}

/** The inbox: newest first, unread ones marked (in words, not only by weight); mark one or all read; paged. */
export default function Notifications() {
  const { query, route } = useLocation();
  const cursor = query.cursor;
  const unreadOnly = query.unread === "true";
  const inbox = useApi(() => api.GET("/v1/me/notifications", { params: { query: { cursor, limit: 20, unread: unreadOnly ? "true" : undefined } } }), [cursor, unreadOnly]);
  const action = useAction();
  const [status, setStatus] = useState("");
  // Marking read removes (or disables) the pressed button: focus goes to the status that says what happened.
  const statusBox = useFocusAfterAction<HTMLParagraphElement>();

  const markRead = async (n: Notification) => {
    if (await action.run(() => api.POST("/v1/me/notifications/{notificationId}/read", { params: { path: { notificationId: n.id } } }))) {
      setStatus(`“${n.title}” marked read.`);
      statusBox.focusAfter();
      inbox.reload();
      inboxChanged();
    }
  };
  const markAll = async () => {
    const done = await action.run(() => api.POST("/v1/me/notifications/read-all"));
    if (done) {
      setStatus(done.marked === 1 ? "1 notification marked read." : `${done.marked} notifications marked read.`);
      statusBox.focusAfter();
      inbox.reload();
      inboxChanged();
    }
  };
  // Following a notification's link marks it read first, then opens the page (in the app when it is one of ours).
  // A modified or middle click keeps the browser's own behaviour (a new tab or window), marking read on the side.
  const follow = async (e: MouseEvent, n: Notification) => {
    if (!n.url) return;
    if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) {
      if (!n.readAt) void api.POST("/v1/me/notifications/{notificationId}/read", { params: { path: { notificationId: n.id } } }).catch(() => undefined);
      return;
    }
    e.preventDefault();
    if (!n.readAt) await api.POST("/v1/me/notifications/{notificationId}/read", { params: { path: { notificationId: n.id } } }).catch(() => undefined);
    const path = inAppPath(n.url);
    if (path) route(path);
    else location.assign(n.url);
  };

  const unread = inbox.data?.unreadCount ?? 0;
  return (
    <Page
      title="Notifications"
      actions={
        <button type="button" class="secondary" onClick={markAll} disabled={action.pending || unread === 0}>
          Mark all read
        </button>
      }
    >
      <p role="status" tabIndex={-1} ref={statusBox.ref}>
        {status}
      </p>
      <Problem problem={action.problem ?? inbox.problem} />
      {inbox.data ? (
        <p>
          {unread === 1 ? "1 unread notification." : `${unread} unread notifications.`}{" "}
          {unreadOnly ? <a href="/notifications">Show all</a> : <a href="/notifications?unread=true">Show only unread</a>}
        </p>
      ) : null}
      {inbox.loading && !inbox.data ? <Loading what="Loading notifications" /> : null}
      {inbox.data ? (
        inbox.data.items.length === 0 ? (
          <p>No notifications.</p>
        ) : (
          <ul class="card-list" aria-label="Notifications">
            {inbox.data.items.map((n) => (
              <li key={n.id}>
                <article>
                  <h2>
                    {n.readAt ? null : <mark>Unread</mark>} {n.urgent ? <mark>Urgent</mark> : null}{" "}
                    {n.url ? (
                      <a href={n.url} onClick={(e) => void follow(e, n)} onAuxClick={(e) => void follow(e, n)}>
                        {n.title}
                      </a>
                    ) : (
                      n.title
                    )}
                  </h2>
                  <p>{n.body}</p>
                  <p class="muted">
                    {formatDateTime(n.createdAt)}
                    {n.readAt ? ` · read ${formatDateTime(n.readAt)}` : ""}
                  </p>
                  {n.readAt ? null : (
                    <button type="button" class="secondary outline" onClick={() => void markRead(n)} disabled={action.pending}>
                      Mark “{n.title}” read
                    </button>
                  )}
                </article>
              </li>
            ))}
          </ul>
        )
      ) : null}
      <Pager path="/notifications" query={query} nextCursor={inbox.data?.nextCursor} nextLabel="Older notifications" />
    </Page>
  );
}
