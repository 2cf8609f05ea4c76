import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api, loadUser } from "../../api/client";
import { session } from "../../api/session";
import { Field, fieldError } from "../../components/Field";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { useAction } from "../../lib/use-api";
import { useSession } from "../../lib/use-session";

/**
 * Where to go after signing in: the page that asked for it, if it is one of ours. Browsers read `/\host` as
 * `//host` (another site), and the router cannot follow one, so anything that leaves this origin goes home.
 */
function nextPath(next: string | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return "/";
  try {
    const url = new URL(next, location.origin);
    if (url.origin !== location.origin || url.pathname.startsWith("/sign-in")) return "/";
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return "/";
  }
}

/** Sign in with email and password; a second step asks for the authenticator (or a recovery) code when it is on. */
export default function SignIn() {
  const { query, route } = useLocation();
  const { endedBecause } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [challenge, setChallenge] = useState<string | null>(null);
  const [code, setCode] = useState("");
  const [useRecovery, setUseRecovery] = useState(false);
  const action = useAction();

  const finish = async (tokens: Parameters<typeof session.signedIn>[0]) => {
    session.signedIn(tokens);
    await loadUser();
    route(nextPath(query.next), true);
  };

  const signIn = async (e: Event) => {
    e.preventDefault();
    const result = await action.run(() => api.POST("/v1/auth/login", { body: { email, password } }));
    if (!result) return;
    if ("challengeToken" in result) setChallenge(result.challengeToken);
    else await finish(result);
  };

  const secondStep = async (e: Event) => {
    e.preventDefault();
    if (!challenge) return;
    const body = useRecovery ? { challengeToken: challenge, recoveryCode: code.trim() } : { challengeToken: challenge, code: code.trim() };
    const result = await action.run(() => api.POST("/v1/auth/login/two-factor", { body }));
    if (result) await finish(result);
  };

  if (challenge) {
    return (
      <Page title="Two-step sign-in">
        <form onSubmit={secondStep} class="narrow">
          <Field
            label={useRecovery ? "Recovery code" : "Code from your authenticator app"}
            name="code"
            autocomplete="one-time-code"
            inputMode={useRecovery ? "text" : "numeric"}
            required
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
          <Problem problem={action.problem} />
          <button type="submit" aria-busy={action.pending} disabled={action.pending}>
            Continue
          </button>
          <button type="button" class="secondary" onClick={() => setUseRecovery(!useRecovery)}>
            {useRecovery ? "Use an authenticator code" : "Use a recovery code"}
          </button>
        </form>
      </Page>
    );
  }

  return (
    <Page title="Sign in">
      {endedBecause ? <p role="status">{endedBecause}</p> : null}
      <form onSubmit={signIn} class="narrow">
        <Field label="Email" type="email" name="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} error={fieldError(action.problem, "body.email")} />
        <Field
          label="Password"
          type="password"
          name="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          error={fieldError(action.problem, "body.password")}
        />
        <Problem problem={action.problem} />
        <button type="submit" aria-busy={action.pending} disabled={action.pending}>
          Sign in
        </button>
      </form>
      <p>
        New here? <a href="/register">Create an account</a>. <a href="/forgot-password">Forgot your password?</a>
      </p>
    </Page>
  );
}
