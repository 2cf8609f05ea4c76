import { useState } from "preact/hooks";
import { api } from "../../../api/client";
import { session, type User } from "../../../api/session";
import { Field, fieldError } from "../../../components/Field";
import { Problem } from "../../../components/Problem";
import { useAction } from "../../../lib/use-api";

/** Name and email language. */
export function Profile({ user }: { user: User }) {
  const [displayName, setDisplayName] = useState(user.displayName);
  const [locale, setLocale] = useState(user.locale);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    const updated = await action.run(() => api.PATCH("/v1/me", { body: { displayName, locale } }));
    if (updated) {
      session.setUser(updated);
      setSaved(true);
    }
  };
  return (
    <section aria-labelledby="profile-heading">
      <h2 id="profile-heading">Profile</h2>
      <p>
        Email: <strong>{user.email}</strong> ({user.emailVerified ? "confirmed" : "not confirmed yet"})
      </p>
      <form onSubmit={save} class="narrow">
        <Field label="Your name" name="displayName" autocomplete="name" required maxLength={100} value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} error={fieldError(action.problem, "body.displayName")} />
        <label for="profile-locale">
          Language of your emails
          <select id="profile-locale" name="locale" value={locale} onChange={(e) => setLocale(e.currentTarget.value)}>
            <option value="en">English</option>
            <option value="es">Español</option>
            {["en", "es"].includes(locale) ? null : <option value={locale}>{locale}</option>}
          </select>
        </label>
        <Problem problem={action.problem} />
        <button type="submit" aria-busy={action.pending} disabled={action.pending}>
          Save the profile
        </button>
        <div role="status">{saved ? <p>Profile saved.</p> : null}</div>
      </form>
    </section>
  );
}
