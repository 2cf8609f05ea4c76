import { useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { api, loadUser } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { useAction } from "../../lib/use-api";
import { useSession } from "../../lib/use-session";
import { ResendVerification } from "./ResendVerification";

/** The emailed confirmation link (`/verify-email?token=`): confirms the address once, on opening. */
export default function VerifyEmail() {
  const { query } = useLocation();
  const { user } = useSession();
  const token = query.token ?? "";
  const [done, setDone] = useState(false);
  const action = useAction();

  useEffect(() => {
    if (!token) return;
    void action.run(() => api.POST("/v1/auth/verify-email", { body: { token } })).then(async (result) => {
      if (result === null) return;
      setDone(true);
      // A signed-in tab learns at once that the address is confirmed (the start page stops asking).
      if (user) await loadUser();
    });
  }, [token]);

  return (
    <Page title="Confirm your email">
      {!token ? <p>This link has no token. Open the link from the email again, or ask for a new one.</p> : null}
      {token && action.pending ? <Loading what="Confirming your address" /> : null}
      {done ? (
        <p role="status">
          Your email address is confirmed. {user ? <a href="/">Go to the start page</a> : <a href="/sign-in">Sign in</a>}.
        </p>
      ) : null}
      <Problem problem={action.problem} />
      {!done && user && !user.emailVerified ? <ResendVerification /> : null}
    </Page>
  );
}
