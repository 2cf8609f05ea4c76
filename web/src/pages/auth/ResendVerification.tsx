import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useAction } from "../../lib/use-api";

/** "Send a new link": for a signed-in user whose address is not confirmed yet (the start page and /verify-email). */
export function ResendVerification() {
  const action = useAction();
  const [sentUntil, setSentUntil] = useState<string | null>(null);
  const resend = async () => {
    const result = await action.run(() => api.POST("/v1/auth/verify-email/resend"));
    if (result) setSentUntil(result.expiresAt);
  };
  return (
    <section aria-labelledby="resend-heading">
      <h2 id="resend-heading">Your email address is not confirmed yet</h2>
      <p>Some things (enrolling in a course) need a confirmed address. The link is in the email we sent when you registered.</p>
      <button type="button" class="secondary" onClick={resend} aria-busy={action.pending} disabled={action.pending}>
        Send a new link
      </button>
      <div role="status">{sentUntil ? <p>A new link is on its way; it works until {formatDateTime(sentUntil)}.</p> : null}</div>
      <Problem problem={action.problem} />
    </section>
  );
}
