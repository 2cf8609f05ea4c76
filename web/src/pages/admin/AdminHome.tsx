import "./admin.css";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useApi } from "../../lib/use-api";

/** The administrator's start: the admin pages, with the two figures that say whether events are flowing. */
export default function AdminHome() {
  const outbox = useApi(() => api.GET("/v1/ops/outbox"), []);
  const dead = useApi(() => api.GET("/v1/ops/dead-letters", { params: { query: { limit: 100 } } }), []);
  const deadCount = dead.data?.items.length;
  return (
    <Page title="Administration">
      <section aria-labelledby="admin-health">
        <h2 id="admin-health">Event health</h2>
        {outbox.loading || dead.loading ? <Loading what="Loading figures" /> : null}
        <Problem problem={outbox.problem ?? dead.problem} />
        <dl>
          {outbox.data ? (
            <>
              <dt>Outbox backlog</dt>
              <dd>
                {outbox.data.backlog} event{outbox.data.backlog === 1 ? "" : "s"} waiting
                {outbox.data.oldestAgeSeconds != null ? `, the oldest for ${Math.round(outbox.data.oldestAgeSeconds)} s` : ""}
              </dd>
              <dt>Last published</dt>
              <dd>{formatDateTime(outbox.data.lastPublishedAt)}</dd>
              {outbox.data.publishPausedUntil ? (
                <>
                  <dt>Publishing paused until</dt>
                  <dd>{formatDateTime(outbox.data.publishPausedUntil)}</dd>
                </>
              ) : null}
              {outbox.data.lastPublishError ? (
                <>
                  <dt>Last publish error</dt>
                  <dd>{outbox.data.lastPublishError}</dd>
                </>
              ) : null}
            </>
          ) : null}
          {deadCount !== undefined ? (
            <>
              <dt>Dead letters</dt>
              <dd>
                {deadCount >= 100 ? "100 or more" : deadCount}
                {deadCount > 0 ? (
                  <>
                    {" "}
                    <a href="/administration/dead-letters">review them</a>
                  </>
                ) : null}
              </dd>
            </>
          ) : null}
        </dl>
      </section>
      <section aria-labelledby="admin-pages">
        <h2 id="admin-pages">Pages</h2>
        <ul>
          <li>
            <a href="/administration/users">Users</a>: search, roles, deactivation, sessions, two-factor reset, invitations
          </li>
          <li>
            <a href="/administration/audit-log">Audit log</a>: security-relevant actions, newest first
          </li>
          <li>
            <a href="/administration/dead-letters">Dead letters</a>: messages a subscription could not handle; replay or purge
          </li>
          <li>
            <a href="/administration/webhooks">Webhooks</a>: endpoints, their events and delivery logs
          </li>
        </ul>
      </section>
    </Page>
  );
}
