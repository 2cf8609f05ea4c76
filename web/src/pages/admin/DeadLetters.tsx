import "./admin.css";
import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";
import { type Subscription, subscriptions } from "./admin-types";
import { ConfirmButton } from "../../components/ConfirmButton";
import { TableScroll } from "../../components/TableScroll";
import { useFocusAfterAction } from "../../lib/focus";

/**
 * Dead-lettered messages, by subscription, with why and how often they were delivered: replay one or all of a
 * subscription (once the fault is fixed), or purge them. The list is read again after every action, and focus goes
 * to the status that reports it (the pressed button goes with its row or section). The API lists at most 100 (it peeks
 * the queues, with no cursor): when the list is full the headings say so, since "Replay all" acts on every one.
 */
const LIMIT = 100;

export default function DeadLetters() {
  const letters = useApi(() => api.GET("/v1/ops/dead-letters", { params: { query: { limit: LIMIT } } }), []);
  const status = useFocusAfterAction<HTMLParagraphElement>();
  const action = useAction();
  const [said, setSaid] = useState("");

  const after = (message: string) => {
    setSaid(message);
    status.focusAfter();
    letters.reload();
  };
  const replay = async (subscription: Subscription, messageId?: string) => {
    const r = await action.run(() => api.POST("/v1/ops/dead-letters/{subscription}/replay", { params: { path: { subscription } }, body: messageId ? { messageId } : {} }));
    if (r) after(`${r.replayed} message${r.replayed === 1 ? "" : "s"} of ${subscription} sent again.`);
  };
  const purge = async (subscription: Subscription) => {
    const r = await action.run(() => api.POST("/v1/ops/dead-letters/{subscription}/purge", { params: { path: { subscription } } }));
    if (r) after(`${r.purged} message${r.purged === 1 ? "" : "s"} of ${subscription} purged.`);
  };

  const full = (letters.data?.items.length ?? 0) >= LIMIT;
  const bySubscription = subscriptions.map((s) => ({ subscription: s, items: letters.data?.items.filter((i) => i.subscription === s) ?? [] }));

  return (
    <Page
      title="Dead letters"
      actions={
        <button type="button" class="secondary" onClick={letters.reload} disabled={letters.loading}>
          Refresh
        </button>
      }
    >
      <p role="status" tabIndex={-1} ref={status.ref}>
        {said}
      </p>
      <Problem problem={action.problem ?? letters.problem} />
      {letters.loading && !letters.data ? <Loading what="Loading dead letters" /> : null}
      {letters.data && letters.data.items.length === 0 ? <p>No dead letters: every subscription handled its messages.</p> : null}
      {letters.data
        ? bySubscription
            .filter((group) => group.items.length > 0)
            .map(({ subscription, items }) => (
              <section key={subscription} aria-labelledby={`dl-${subscription}`}>
                <h2 id={`dl-${subscription}`}>
                  {subscription} ({items.length}{full ? " shown; there may be more" : ""})
                </h2>
                <TableScroll label={`Dead letters of ${subscription}`}>
                  <table>
                    <caption class="visually-hidden">Dead letters of {subscription}</caption>
                    <thead>
                      <tr>
                        <th scope="col">Message</th>
                        <th scope="col">Reason</th>
                        <th scope="col">Deliveries</th>
                        <th scope="col">Enqueued</th>
                        <th scope="col">Action</th>
                      </tr>
                    </thead>
                    <tbody>
                      {items.map((m) => (
                        <tr key={m.sequenceNumber}>
                          <th scope="row">
                            {m.subject ?? "(no subject)"}
                            <br />
                            <small>
                              <code>{m.messageId}</code>
                            </small>
                          </th>
                          <td>
                            {m.deadLetterReason ?? "—"}
                            {m.appReason || m.deadLetterErrorDescription ? (
                              <>
                                <br />
                                <small>{m.appReason ?? m.deadLetterErrorDescription}</small>
                              </>
                            ) : null}
                          </td>
                          <td>{m.deliveryCount ?? "—"}</td>
                          <td>{formatDateTime(m.enqueuedAt)}</td>
                          <td>
                            <button type="button" disabled={action.pending} aria-label={`Replay ${m.subject ?? "message"} ${m.messageId}`} onClick={() => void replay(subscription, m.messageId)}>
                              Replay
                            </button>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableScroll>
                <div>
                  <button type="button" class="secondary" disabled={action.pending} onClick={() => void replay(subscription)}>
                    Replay all of {subscription}
                  </button>{" "}
                  <ConfirmButton
                    label={`Purge ${subscription}…`}
                    question={`Delete every dead letter of ${subscription}? They cannot be replayed afterwards.`}
                    confirmLabel={`Purge ${subscription}`}
                    pending={action.pending}
                    onConfirm={() => purge(subscription)}
                    focusAfter={status.ref}
                  />
                </div>
              </section>
            ))
        : null}
    </Page>
  );
}
