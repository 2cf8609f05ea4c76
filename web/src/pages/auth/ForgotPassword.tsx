import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Field, fieldError } from "../../components/Field";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { useAction } from "../../lib/use-api";

/** Ask for a reset link. The answer is the same whether or not the address has an account (no account probing). */
export default function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState<string | null>(null);
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const result = await action.run(() => api.POST("/v1/auth/password-reset", { body: { email } }));
    if (result) setSent(result.detail);
  };
  return (
    <Page title="Forgot your password?">
      <form onSubmit={submit} class="narrow">
        <p>Enter your account's email address and we will send a link to choose a new password.</p>
        <Field label="Email" type="email" name="email" autocomplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} error={fieldError(action.problem, "body.email")} />
        <Problem problem={action.problem} />
        <button type="submit" aria-busy={action.pending} disabled={action.pending}>
          Send the link
        </button>
      </form>
      <div role="status">{sent ? <p>{sent}</p> : null}</div>
      <p>
        Remembered it? <a href="/sign-in">Sign in</a>.
      </p>
    </Page>
  );
}
