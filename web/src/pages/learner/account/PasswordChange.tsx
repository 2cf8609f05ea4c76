import { useState } from "preact/hooks";
import { api } from "../../../api/client";
import { Field, fieldError } from "../../../components/Field";
import { Problem } from "../../../components/Problem";
import { useAction } from "../../../lib/use-api";

export function PasswordChange() {
  const [currentPassword, setCurrent] = useState("");
  const [newPassword, setNew] = useState("");
  const [done, setDone] = useState(false);
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    setDone(false);
    if ((await action.run(() => api.POST("/v1/me/password", { body: { currentPassword, newPassword } }))) !== null) {
      setDone(true);
      setCurrent("");
      setNew("");
    }
  };
  return (
    <section aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      <form onSubmit={submit} class="narrow">
        <Field label="Current password" type="password" name="currentPassword" autocomplete="current-password" required value={currentPassword} onInput={(e) => setCurrent(e.currentTarget.value)} error={fieldError(action.problem, "body.currentPassword")} />
        <Field label="New password" type="password" name="newPassword" autocomplete="new-password" required minLength={12} hint="At least 12 characters." value={newPassword} onInput={(e) => setNew(e.currentTarget.value)} error={fieldError(action.problem, "body.newPassword")} />
        <Problem problem={action.problem} />
        <button type="submit" aria-busy={action.pending} disabled={action.pending}>
          Change the password
        </button>
        <div role="status">{done ? <p>Your password is changed.</p> : null}</div>
      </form>
    </section>
  );
}
