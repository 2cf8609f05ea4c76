import { api } from "../../../api/client";
import { Loading } from "../../../components/Loading";
import { Problem } from "../../../components/Problem";
import { formatDateTime } from "../../../lib/format";
import { useAction, useApi } from "../../../lib/use-api";
import { TableScroll } from "../../../components/TableScroll";

/** Where the account is signed in; any other session can be signed out from here (a lost phone, a shared computer). */
export function Sessions() {
  const sessions = useApi(() => api.GET("/v1/me/sessions"), []);
  const action = useAction();
  const end = async (sessionId: string) => {
    if ((await action.run(() => api.DELETE("/v1/me/sessions/{sessionId}", { params: { path: { sessionId } } }))) !== null) sessions.reload();
  };
  return (
    <section aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Where you are signed in</h2>
      {sessions.loading ? <Loading what="Loading your sessions" /> : null}
      <Problem problem={sessions.problem ?? action.problem} />
      {sessions.data ? (
        <TableScroll label="Your sessions">
          <table>
            <caption class="visually-hidden">Your sessions</caption>
            <thead>
              <tr>
                <th scope="col">Signed in</th>
                <th scope="col">Last used</th>
                <th scope="col">From</th>
                <th scope="col">
                  <span class="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.data.items.map((s) => (
                <tr key={s.id}>
                  <td>{formatDateTime(s.startedAt)}</td>
                  <td>{formatDateTime(s.lastUsedAt)}</td>
                  <td>{s.clientIp ?? "—"}</td>
                  <td>
                    {s.current ? (
                      "This browser"
                    ) : (
                      <button type="button" class="secondary outline" onClick={() => end(s.id)} disabled={action.pending} aria-label={`Sign out the session started ${formatDateTime(s.startedAt)}`}>
                        Sign out
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      ) : null}
    </section>
  );
}
