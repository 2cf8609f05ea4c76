import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Field, fieldError } from "../../components/Field";
import { Loading } from "../../components/Loading";
import { Problem } from "../../components/Problem";
import { Pager } from "../../components/Pager";
import { TableScroll } from "../../components/TableScroll";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";
import { ConfirmButton } from "../../components/ConfirmButton";

/** Invite someone by email (the API sends the link), and the pending invitations, each withdrawable. */
export function Invitations() {
  // The pending list's page is in the URL beside the user search's own (Back and a reload keep it).
  const { query } = useLocation();
  const cursor = query.invitations;
  const pending = useApi(() => api.GET("/v1/users/invitations", { params: { query: { cursor, limit: 20 } } }), [cursor]);
  const invite = useAction();
  const withdraw = useAction();
  const [email, setEmail] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [said, setSaid] = useState("");

  const submit = async (e: Event) => {
    e.preventDefault();
    const name = displayName.trim();
    const made = await invite.run(() => api.POST("/v1/users/invitations", { body: { email: email.trim(), ...(name ? { displayName: name } : {}) } }));
    if (!made) return;
    setSaid(`Invitation sent to ${made.email}.`);
    setEmail("");
    setDisplayName("");
    pending.reload();
  };

  const withdrawOne = async (id: string, to: string) => {
    if ((await withdraw.run(() => api.DELETE("/v1/users/invitations/{invitationId}", { params: { path: { invitationId: id } } }))) !== null) {
      setSaid(`Invitation to ${to} withdrawn.`);
      pending.reload();
    }
  };

  return (
    <section aria-labelledby="invitations-heading">
      <h2 id="invitations-heading">Invitations</h2>
      <form onSubmit={submit} class="narrow">
        <Field label="Email to invite" type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} error={fieldError(invite.problem, "body.email")} />
        <Field label="Name (optional)" value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} error={fieldError(invite.problem, "body.displayName")} />
        <Problem problem={invite.problem} />
        <button type="submit" disabled={invite.pending} aria-busy={invite.pending}>
          Send invitation
        </button>
      </form>
      <p role="status">{said}</p>
      <Problem problem={withdraw.problem ?? pending.problem} />
      {pending.loading ? <Loading what="Loading invitations" /> : null}
      {pending.data ? (
        pending.data.items.length === 0 ? (
          <p>No pending invitation.</p>
        ) : (
          <TableScroll label="Pending invitations">
            <table>
              <caption>Pending invitations</caption>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Sent</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {pending.data.items.map((i) => (
                  <tr key={i.id}>
                    <th scope="row">
                      {i.email}
                      {i.displayName ? <small> ({i.displayName})</small> : null}
                    </th>
                    <td>{formatDateTime(i.createdAt)}</td>
                    <td>{formatDateTime(i.expiresAt)}</td>
                    <td>
                      <ConfirmButton
                        label="Withdraw"
                        name={`Withdraw the invitation to ${i.email}`}
                        question={`Withdraw the invitation to ${i.email}? Its link stops working.`}
                        confirmLabel="Withdraw it"
                        pending={withdraw.pending}
                        onConfirm={() => withdrawOne(i.id, i.email)}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        )
      ) : null}
      <Pager path="/administration/users" query={query} param="invitations" label="Invitation pages" nextLabel="More invitations" nextCursor={pending.data?.nextCursor} />
    </section>
  );
}
