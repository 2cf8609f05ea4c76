import { useEffect, useState } from "preact/hooks";
import { api, type Schemas } from "../../../api/client";
import { Loading } from "../../../components/Loading";
import { Problem } from "../../../components/Problem";
import { useAction, useApi } from "../../../lib/use-api";

type Preferences = Schemas["NotificationPreferences"];
type EmailCategory = "courseUpdates" | "grades" | "reminders" | "announcements" | "discussions";

const categories: [EmailCategory, string][] = [
  ["courseUpdates", "Course updates (enrollment, offers, new content)"],
  ["grades", "Grades"],
  ["reminders", "Reminders of due work"],
  ["announcements", "Course announcements"],
  ["discussions", "Replies in discussions"],
];

/** Which emails to receive (push, SMS and quiet hours are kept as they are). */
export function NotificationSettings() {
  const prefs = useApi(() => api.GET("/v1/me/notification-preferences"), []);
  const [draft, setDraft] = useState<Preferences | null>(null);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  useEffect(() => setDraft(prefs.data), [prefs.data]);
  const save = async (e: Event) => {
    e.preventDefault();
    if (!draft) return;
    setSaved(false);
    const result = await action.run(() => api.PUT("/v1/me/notification-preferences", { body: draft }));
    if (result) {
      setDraft(result);
      setSaved(true);
    }
  };
  return (
    <section aria-labelledby="notifications-heading">
      <h2 id="notifications-heading">Emails</h2>
      {prefs.loading && !draft ? <Loading /> : null}
      <Problem problem={prefs.problem} />
      {draft ? (
        <form onSubmit={save}>
          <fieldset>
            <legend>Send me emails about</legend>
            {categories.map(([key, label]) => (
              <label key={key}>
                <input type="checkbox" name={key} checked={draft[key]} onChange={(e) => setDraft({ ...draft, [key]: e.currentTarget.checked })} />
                {label}
              </label>
            ))}
            <label>
              <input type="checkbox" name="discussionDigest" checked={draft.discussionDigest} onChange={(e) => setDraft({ ...draft, discussionDigest: e.currentTarget.checked })} />
              Discussion replies as one daily digest
            </label>
          </fieldset>
          <Problem problem={action.problem} />
          <button type="submit" disabled={action.pending} aria-busy={action.pending}>
            Save email settings
          </button>
          <div role="status">{saved ? <p>Email settings saved.</p> : null}</div>
        </form>
      ) : null}
    </section>
  );
}
