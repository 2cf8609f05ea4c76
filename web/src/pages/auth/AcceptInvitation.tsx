import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api, loadUser } from "../../api/client";
import { session } from "../../api/session";
import { Field, fieldError } from "../../components/Field";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { useAction } from "../../lib/use-api";

/** The account invitation (`/accept-invitation?token=`): choose a name and password; signed in after. */
export default function AcceptInvitation() {
  const { query, route } = useLocation();
  const token = query.token ?? "";
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const name = displayName.trim();
    const tokens = await action.run(() => api.POST("/v1/auth/invitations/accept", { body: { token, password, ...(name ? { displayName: name } : {}) } }));
    if (!tokens) return;
    session.signedIn(tokens);
    await loadUser();
    route("/", true);
  };
  return (
    <Page title="Create your account">
      {token ? (
        <form onSubmit={submit} class="narrow">
          <Field label="Your name" name="displayName" autocomplete="name" maxLength={100} hint="Leave empty to keep the name you were invited with." value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} error={fieldError(action.problem, "body.displayName")} />
          <Field label="Password" type="password" name="password" autocomplete="new-password" required minLength={12} hint="At least 12 characters." value={password} onInput={(e) => setPassword(e.currentTarget.value)} error={fieldError(action.problem, "body.password")} />
          <Problem problem={action.problem} />
          <button type="submit" aria-busy={action.pending} disabled={action.pending}>
            Create the account
          </button>
        </form>
      ) : (
        <p>This link has no token. Open the link from the invitation email again.</p>
      )}
    </Page>
  );
}
