import "./admin.css";
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";
import { type GlobalRole, globalRoles } from "./admin-types";
import { ConfirmButton } from "../../components/ConfirmButton";

const roleLabels: Record<GlobalRole, string> = { admin: "Administrator", finance: "Finance (bursar)", "course-creator": "Course creator (may create courses)" };

/** One user: global roles, deactivate / reactivate, end every session, reset two-factor. */
export default function User({ userId }: { userId: string }) {
  const user = useApi(() => api.GET("/v1/users/{userId}", { params: { path: { userId } } }), [userId]);
  const action = useAction();
  const [roles, setRoles] = useState<GlobalRole[]>([]);
  const [reason, setReason] = useState("");
  const [said, setSaid] = useState("");
  useEffect(() => setRoles(user.data?.roles ?? []), [user.data]);

  const path = { params: { path: { userId } } };
  const done = (message: string) => {
    setSaid(message);
    user.reload();
  };

  const saveRoles = async (e: Event) => {
    e.preventDefault();
    const saved = await action.run(() => api.PUT("/v1/users/{userId}/roles", { ...path, body: { roles } }));
    if (saved) done(`Roles saved: ${saved.roles.map((r) => roleLabels[r]).join(", ") || "none"}.`);
  };

  if (user.loading && !user.data) return <Loading what="Loading the user" />;
  if (!user.data) {
    return (
      <Page title="User">
        <Problem problem={user.problem} />
        <p>
          <a href="/administration/users">All users</a>
        </p>
      </Page>
    );
  }
  const u = user.data;
  return (
    <Page title={u.displayName}>
      <p>
        <a href="/administration/users">All users</a>
      </p>
      <dl>
        <dt>Email</dt>
        <dd>
          {u.email} {u.emailVerified ? "(confirmed)" : "(not confirmed)"}
        </dd>
        <dt>Status</dt>
        <dd>{u.disabled ? `Deactivated ${formatDateTime(u.deactivatedAt)}` : "Active"}</dd>
        <dt>Roles</dt>
        <dd>{u.roles.length ? u.roles.map((r) => roleLabels[r]).join(", ") : "No global role"}</dd>
        <dt>Course roles</dt>
        <dd>
          {u.courseRoles.length ? (
            <ul>
              {u.courseRoles.map((c) => (
                <li key={`${c.courseId}:${c.role}`}>
                  {c.role} of <a href={`/courses/${c.courseId}`}>course {c.courseId.slice(-6)}</a>
                </li>
              ))}
            </ul>
          ) : (
            "None"
          )}
        </dd>
        <dt>Joined</dt>
        <dd>{formatDateTime(u.createdAt)}</dd>
      </dl>

      <p role="status">{said}</p>
      <Problem problem={action.problem} />

      <form onSubmit={saveRoles}>
        <fieldset>
          <legend>Global roles</legend>
          {globalRoles.map((r) => (
            <label key={r}>
              <input
                type="checkbox"
                name="roles"
                value={r}
                checked={roles.includes(r)}
                onChange={(e) => setRoles(e.currentTarget.checked ? [...roles, r] : roles.filter((x) => x !== r))}
              />
              {roleLabels[r]}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={action.pending} aria-busy={action.pending}>
          Save roles
        </button>
      </form>

      <section aria-labelledby="account-actions">
        <h2 id="account-actions">Account</h2>
        {u.disabled ? (
          <button
            type="button"
            disabled={action.pending}
            onClick={async () => {
              if (await action.run(() => api.POST("/v1/users/{userId}/reactivate", path))) done("The account is active again.");
            }}
          >
            Reactivate
          </button>
        ) : (
          <>
            <label for="deactivate-reason">
              Reason for deactivating (optional)
              <input id="deactivate-reason" maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
            </label>
            <ConfirmButton
              label="Deactivate…"
              question={`Deactivate ${u.email}? Every session ends now and signing in is refused; every record stays.`}
              confirmLabel="Deactivate"
              pending={action.pending}
              onConfirm={async () => {
                const r = await action.run(() => api.POST("/v1/users/{userId}/deactivate", { ...path, body: reason.trim() ? { reason: reason.trim() } : {} }));
                if (r) done(`Deactivated; ${r.revokedSessions} session(s) ended.`);
              }}
            />
          </>
        )}
        <ConfirmButton
          label="End all sessions…"
          question={`Sign ${u.email} out everywhere?`}
          confirmLabel="End all sessions"
          pending={action.pending}
          onConfirm={async () => {
            const r = await action.run(() => api.POST("/v1/users/{userId}/sessions/revoke", path));
            if (r) done(`${r.revokedSessions} session(s) ended.`);
          }}
        />
        <ConfirmButton
          label="Reset two-factor…"
          question={`Remove the second factor of ${u.email} (a lost phone)? Every session of the user ends too.`}
          confirmLabel="Reset two-factor"
          pending={action.pending}
          onConfirm={async () => {
            const r = await action.run(() => api.DELETE("/v1/users/{userId}/two-factor", path));
            if (r) done(`${r.hadTwoFactor ? "Two-factor removed" : "The user had no second factor"}; ${r.revokedSessions} session(s) ended.`);
          }}
        />
        <p>
          <a href={`/administration/audit-log?targetId=${u.id}`}>Audit log entries about this user</a>
        </p>
      </section>
    </Page>
  );
}
