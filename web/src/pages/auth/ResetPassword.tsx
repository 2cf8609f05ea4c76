import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Field, fieldError } from "../../components/Field";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { useAction } from "../../lib/use-api";

/** The emailed reset link (`/reset-password?token=`): choose a new password, then sign in with it. */
export default function ResetPassword() {
  const { query } = useLocation();
  const token = query.token ?? "";
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const result = await action.run(() => api.POST("/v1/auth/password-reset/confirm", { body: { token, newPassword: password } }));
    if (result !== null) setDone(true);
  };
  return (
    <Page title="Choose a new password">
      {done ? (
        <p role="status">
          Your password is changed. <a href="/sign-in">Sign in</a> with it.
        </p>
      ) : token ? (
        <form onSubmit={submit} class="narrow">
          <Field
            label="New password"
            type="password"
            name="newPassword"
            autocomplete="new-password"
            required
            minLength={12}
            hint="At least 12 characters."
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            error={fieldError(action.problem, "body.newPassword")}
          />
          <Problem problem={action.problem} />
          <button type="submit" aria-busy={action.pending} disabled={action.pending}>
            Change the password
          </button>
        </form>
      ) : (
        <p>
          This link has no token. <a href="/forgot-password">Ask for a new link</a>.
        </p>
      )}
    </Page>
  );
}
