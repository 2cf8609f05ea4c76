import "./admin.css";
import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Field, fieldError } from "../../components/Field";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { TableScroll } from "../../components/TableScroll";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";
import type { WebhookEvent } from "./admin-types";
import { EventPicker } from "./EventPicker";
import { Pager } from "../../components/Pager";
import { SecretOnce } from "./SecretOnce";

/** Webhook endpoints, and registering one (its signing secret is shown once, here). */
export default function Webhooks() {
  const { query } = useLocation();
  const cursor = query.cursor;
  const hooks = useApi(() => api.GET("/v1/webhooks", { params: { query: { cursor, limit: 20 } } }), [cursor]);
  const register = useAction();
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<WebhookEvent[]>([]);
  const [created, setCreated] = useState<{ id: string; url: string; secret: string } | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const made = await register.run(() => api.POST("/v1/webhooks", { body: { url: url.trim(), description: description.trim(), eventTypes: events } }));
    if (!made) return;
    setCreated({ id: made.id, url: made.url, secret: made.secret });
    setUrl("");
    setDescription("");
    setEvents([]);
    hooks.reload();
  };

  return (
    <Page title="Webhooks">
      {created ? <SecretOnce {...created} onDone={() => setCreated(null)} /> : null}
      {hooks.loading && !hooks.data ? <Loading what="Loading webhooks" /> : null}
      <Problem problem={hooks.problem} />
      {hooks.data ? (
        hooks.data.items.length === 0 ? (
          <p>No endpoint is registered.</p>
        ) : (
          <TableScroll label="Webhook endpoints">
            <table>
              <caption class="visually-hidden">Webhook endpoints</caption>
              <thead>
                <tr>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Events</th>
                  <th scope="col">State</th>
                  <th scope="col">Registered</th>
                </tr>
              </thead>
              <tbody>
                {hooks.data.items.map((h) => (
                  <tr key={h.id}>
                    <th scope="row">
                      <a href={`/administration/webhooks/${h.id}`}>{h.url}</a>
                      {h.description ? (
                        <>
                          <br />
                          <small>{h.description}</small>
                        </>
                      ) : null}
                    </th>
                    <td>{h.eventTypes.length ? h.eventTypes.join(", ") : "every event"}</td>
                    <td>{h.active ? (h.consecutiveFailures ? `Active, ${h.consecutiveFailures} failures in a row` : "Active") : h.disabledReason === "failures" ? "Disabled after failures" : "Disabled"}</td>
                    <td>{formatDateTime(h.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        )
      ) : null}
      <Pager path="/administration/webhooks" query={{ cursor }} nextCursor={hooks.data?.nextCursor} />

      <section aria-labelledby="register-heading">
        <h2 id="register-heading">Register an endpoint</h2>
        <form onSubmit={submit}>
          <Field label="URL (HTTPS)" type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} error={fieldError(register.problem, "body.url")} />
          <Field label="Description (optional)" value={description} onInput={(e) => setDescription(e.currentTarget.value)} error={fieldError(register.problem, "body.description")} />
          <EventPicker value={events} onChange={setEvents} />
          <Problem problem={register.problem} />
          <button type="submit" disabled={register.pending} aria-busy={register.pending}>
            Register endpoint
          </button>
        </form>
      </section>
    </Page>
  );
}
