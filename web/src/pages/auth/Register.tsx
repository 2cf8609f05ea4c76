import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api, loadUser } from "../../api/client";
import { session } from "../../api/session";
import { Field, fieldError } from "../../components/Field";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { useAction } from "../../lib/use-api";

/** Create a learner account, then sign in with it (a confirmation email is on its way). */
export default function Register() {
  const { route } = useLocation();
  const [displayName, setDisplayName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction();

  const register = async (e: Event) => {
    e.preventDefault();
    const user = await action.run(() => api.POST("/v1/auth/register", { body: { displayName, email, password } }));
    if (!user) return;
    const tokens = await action.run(() => api.POST("/v1/auth/login", { body: { email, password } }));
    if (tokens && !("challengeToken" in tokens)) {
      session.signedIn(tokens);
      await loadUser();
      route("/?welcome=1", true);
    } else if (!tokens) {
      // Accounts that must confirm their email first cannot sign in yet: say where to go next.
      route(`/sign-in?registered=1`, true);
    }
  };

  return (
    <Page title="Create an account">
      <form onSubmit={register} class="narrow">
        <Field label="Your name" name="displayName" autocomplete="name" required maxLength={100} value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} error={fieldError(action.problem, "body.displayName")} />
        <Field label="Email" type="email" name="email" autocomplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} error={fieldError(action.problem, "body.email")} />
        <Field
          label="Password"
          type="password"
          name="password"
          autocomplete="new-password"
          required
          minLength={12}
          hint="At least 12 characters; a passphrase of a few words is easy to remember and hard to guess."
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          error={fieldError(action.problem, "body.password")}
        />
        <Problem problem={action.problem} />
        <button type="submit" aria-busy={action.pending} disabled={action.pending}>
          Create account
        </button>
      </form>
      <p>
        Have an account? <a href="/sign-in">Sign in</a>.
      </p>
    </Page>
  );
}
