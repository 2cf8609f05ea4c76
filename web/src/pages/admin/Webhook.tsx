import "./admin.css";
import { useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api/client";
import { Field, fieldError } from "../../components/Field";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { Pager } from "../../components/Pager";
import { TableScroll } from "../../components/TableScroll";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";
import { type WebhookEvent, webhookEvents } from "./admin-types";
import { ConfirmButton } from "../../components/ConfirmButton";
import { EventPicker } from "./EventPicker";

/** One endpoint: edit its URL, description and events, enable or disable it, delete it; its delivery log with replay. */
export default function Webhook({ webhookId }: { webhookId: string }) {
  const { route, query } = useLocation();
  const path = { params: { path: { webhookId } } };
  const hook = useApi(() => api.GET("/v1/webhooks/{webhookId}", path), [webhookId]);
  // The delivery log's page is in the URL (Back and a reload keep it).
  const cursor = query.deliveries;
  const deliveries = useApi(() => api.GET("/v1/webhooks/{webhookId}/deliveries", { params: { path: { webhookId }, query: { cursor, limit: 20 } } }), [webhookId, cursor]);
  const action = useAction();
  const [said, setSaid] = useState("");
  const [form, setForm] = useState<{ url: string; description: string; eventTypes: WebhookEvent[] }>({ url: "", description: "", eventTypes: [] });
  useEffect(() => {
    const h = hook.data;
    // The API lists the endpoint's events as strings; keep the ones this app knows (all of them, while the types agree).
    if (h) setForm({ url: h.url, description: h.description, eventTypes: webhookEvents.filter((e) => h.eventTypes.includes(e)) });
  }, [hook.data]);

  const saved = (message: string) => {
    setSaid(message);
    hook.reload();
  };
  const save = async (e: Event) => {
    e.preventDefault();
    if (await action.run(() => api.PATCH("/v1/webhooks/{webhookId}", { ...path, body: { url: form.url.trim(), description: form.description.trim(), eventTypes: form.eventTypes } }))) saved("Changes saved.");
  };
  const setActive = async (active: boolean) => {
    if (await action.run(() => api.PATCH("/v1/webhooks/{webhookId}", { ...path, body: { active } }))) saved(active ? "The endpoint is enabled." : "The endpoint is disabled.");
  };
  const remove = async () => {
    if ((await action.run(() => api.DELETE("/v1/webhooks/{webhookId}", path))) !== null) route("/administration/webhooks");
  };
  const replay = async (deliveryId: string) => {
    const r = await action.run(() => api.POST("/v1/webhooks/{webhookId}/deliveries/{deliveryId}/replay", { params: { path: { webhookId, deliveryId } } }));
    if (r) {
      setSaid(`Delivery of ${r.eventType} sent again: ${r.status}.`);
      deliveries.reload();
    }
  };

  if (hook.loading && !hook.data) return <Loading what="Loading the endpoint" />;
  const h = hook.data;
  if (!h) {
    return (
      <Page title="Webhook">
        <Problem problem={hook.problem} />
        <p>
          <a href="/administration/webhooks">All webhooks</a>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Webhook endpoint">
      <p>
        <a href="/administration/webhooks">All webhooks</a>
      </p>
      <dl>
        <dt>URL</dt>
        <dd class="break">{h.url}</dd>
        <dt>State</dt>
        <dd>
          {h.active ? "Enabled" : `Disabled ${formatDateTime(h.disabledAt)}${h.disabledReason === "failures" ? " after repeated failures" : " by an administrator"}`}
          {h.consecutiveFailures ? `; ${h.consecutiveFailures} failures in a row since ${formatDateTime(h.failingSince)}` : ""}
        </dd>
        <dt>Registered</dt>
        <dd>{formatDateTime(h.createdAt)}</dd>
      </dl>
      <p role="status">{said}</p>
      <Problem problem={action.problem} />
      <p>
        {h.active ? (
          <button type="button" class="secondary" disabled={action.pending} onClick={() => void setActive(false)}>
            Disable
          </button>
        ) : (
          <button type="button" disabled={action.pending} onClick={() => void setActive(true)}>
            Enable
          </button>
        )}
      </p>

      <section aria-labelledby="edit-heading">
        <h2 id="edit-heading">Edit</h2>
        <form onSubmit={save}>
          <Field label="URL (HTTPS)" type="url" required value={form.url} onInput={(e) => setForm({ ...form, url: e.currentTarget.value })} error={fieldError(action.problem, "body.url")} />
          <Field label="Description" value={form.description} onInput={(e) => setForm({ ...form, description: e.currentTarget.value })} error={fieldError(action.problem, "body.description")} />
          <EventPicker value={form.eventTypes} onChange={(eventTypes) => setForm({ ...form, eventTypes })} />
          <button type="submit" disabled={action.pending} aria-busy={action.pending}>
            Save changes
          </button>
        </form>
      </section>

      <section aria-labelledby="deliveries-heading">
        <h2 id="deliveries-heading">Deliveries</h2>
        <button type="button" class="secondary" onClick={deliveries.reload}>
          Refresh deliveries
        </button>
        <Problem problem={deliveries.problem} />
        {deliveries.loading && !deliveries.data ? <Loading what="Loading deliveries" /> : null}
        {deliveries.data ? (
          deliveries.data.items.length === 0 ? (
            <p>No delivery yet.</p>
          ) : (
            <TableScroll label="Deliveries, newest first">
              <table>
                <caption class="visually-hidden">Deliveries, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Event</th>
                    <th scope="col">Status</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Last answer</th>
                    <th scope="col">Created</th>
                    <th scope="col">Action</th>
                  </tr>
                </thead>
                <tbody>
                  {deliveries.data.items.map((d) => (
                    <tr key={d.id}>
                      <th scope="row">{d.eventType}</th>
                      <td>{d.status}</td>
                      <td>{d.attempts}</td>
                      <td>
                        {d.lastStatusCode ?? "—"}
                        {d.lastLatencyMs != null ? ` in ${d.lastLatencyMs} ms` : ""}
                        {d.lastError ? (
                          <>
                            <br />
                            <small>{d.lastError}</small>
                          </>
                        ) : null}
                      </td>
                      <td>{formatDateTime(d.createdAt)}</td>
                      <td>
                        <button type="button" class="secondary" disabled={action.pending || !h.active} aria-label={`Replay the ${d.eventType} delivery of ${formatDateTime(d.createdAt)}`} onClick={() => void replay(d.id)}>
                          Replay
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          )
        ) : null}
        <Pager path={`/administration/webhooks/${webhookId}`} query={{ deliveries: cursor }} param="deliveries" label="Delivery log pages" nextLabel="Older deliveries" nextCursor={deliveries.data?.nextCursor} />
      </section>

      <section aria-labelledby="delete-heading">
        <h2 id="delete-heading">Delete</h2>
        <ConfirmButton
          label="Delete endpoint…"
          question={`Delete the endpoint ${h.url}? It receives nothing more; its delivery log stays readable.`}
          confirmLabel="Delete endpoint"
          pending={action.pending}
          onConfirm={remove}
        />
      </section>
    </Page>
  );
}
