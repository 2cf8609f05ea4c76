import { useState } from "preact/hooks";
import { api } from "../../../api/client";
import { Field } from "../../../components/Field";
import { Loading } from "../../../components/Loading";
import { Problem } from "../../../components/Problem";
import { formatDateTime } from "../../../lib/format";
import { useAction, useApi } from "../../../lib/use-api";

/**
 * Two-factor sign-in: turn on (the secret and its otpauth URI as text, to type or paste into an authenticator app;
 * no QR code, so no QR library), confirm with a code, see the recovery codes once; new recovery codes; turn off.
 */
export function TwoFactor() {
  const status = useApi(() => api.GET("/v1/me/two-factor"), []);
  const action = useAction();
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauthUri: string } | null>(null);
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const start = async (e: Event) => {
    e.preventDefault();
    const result = await action.run(() => api.POST("/v1/me/two-factor", { body: { currentPassword: password } }));
    if (result) {
      setEnrolment(result);
      setPassword("");
    }
  };
  const confirm = async (e: Event) => {
    e.preventDefault();
    const result = await action.run(() => api.POST("/v1/me/two-factor/confirm", { body: { code: code.trim() } }));
    if (result) {
      setRecoveryCodes(result.recoveryCodes);
      setEnrolment(null);
      setCode("");
      setMessage("Two-factor sign-in is on.");
      status.reload();
    }
  };
  const newCodes = async (e: Event) => {
    e.preventDefault();
    const result = await action.run(() => api.POST("/v1/me/two-factor/recovery-codes", { body: { code: code.trim() } }));
    if (result) {
      setRecoveryCodes(result.recoveryCodes);
      setCode("");
      setMessage("New recovery codes: the old ones no longer work.");
      status.reload();
    }
  };
  const turnOff = async () => {
    if ((await action.run(() => api.DELETE("/v1/me/two-factor", { body: { currentPassword: password, code: code.trim() } }))) !== null) {
      setPassword("");
      setCode("");
      setRecoveryCodes(null);
      setMessage("Two-factor sign-in is off.");
      status.reload();
    }
  };

  const s = status.data;
  return (
    <section aria-labelledby="two-factor-heading">
      <h2 id="two-factor-heading">Two-factor sign-in</h2>
      {status.loading && !s ? <Loading /> : null}
      <Problem problem={status.problem} />
      {s ? <p>{s.enabled ? `On since ${formatDateTime(s.enabledAt)}; ${s.remainingRecoveryCodes} recovery codes left.` : "Off: signing in needs only your password."}</p> : null}
      <div role="status">{message ? <p>{message}</p> : null}</div>
      {recoveryCodes ? (
        <div>
          <p>
            <strong>Your recovery codes.</strong> Keep them somewhere safe; each works once if you lose your authenticator. They are shown only now.
          </p>
          <ul aria-label="Recovery codes">
            {recoveryCodes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {s && !s.enabled && !enrolment ? (
        <form onSubmit={start} class="narrow">
          <Field label="Your password (to turn it on)" type="password" name="currentPassword" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          <button type="submit" disabled={action.pending} aria-busy={action.pending}>
            Turn on two-factor sign-in
          </button>
        </form>
      ) : null}
      {enrolment ? (
        <form onSubmit={confirm} class="narrow">
          <p>Add this key to your authenticator app (type the secret, or paste the link), then enter the code it shows.</p>
          {/* Read-only fields: the long otpauth link stays within a phone's width, and is easy to select. */}
          <Field label="Secret" name="secret" readOnly value={enrolment.secret} />
          <CopyButton text={enrolment.secret} what="the secret" />
          <Field label="Link for authenticator apps (otpauth)" name="otpauthUri" readOnly value={enrolment.otpauthUri} />
          <CopyButton text={enrolment.otpauthUri} what="the link" />
          <Field label="Code from your authenticator app" name="code" autocomplete="one-time-code" inputMode="numeric" required value={code} onInput={(e) => setCode(e.currentTarget.value)} />
          <button type="submit" disabled={action.pending} aria-busy={action.pending}>
            Confirm
          </button>
        </form>
      ) : null}
      {s?.enabled ? (
        <form onSubmit={newCodes} class="narrow">
          <Field label="Code from your authenticator app" name="code" autocomplete="one-time-code" inputMode="numeric" required value={code} onInput={(e) => setCode(e.currentTarget.value)} />
          <button type="submit" class="secondary" disabled={action.pending}>
            New recovery codes
          </button>
          <Field label="Your password (to turn it off)" type="password" name="currentPassword" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          <button type="button" class="secondary outline" onClick={turnOff} disabled={action.pending || !password || !code}>
            Turn off two-factor sign-in
          </button>
        </form>
      ) : null}
      <Problem problem={action.problem} />
    </section>
  );
}

function CopyButton({ text, what }: { text: string; what: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <>
      <button
        type="button"
        class="secondary outline"
        onClick={() => {
          void navigator.clipboard?.writeText(text).then(() => setCopied(true));
        }}
      >
        Copy {what}
      </button>
      <span role="status">{copied ? " Copied." : ""}</span>
    </>
  );
}
