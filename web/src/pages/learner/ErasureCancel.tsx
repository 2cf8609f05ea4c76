import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { useAction } from "../../lib/use-api";

/** The emailed link (`/account/erasure/cancel?token=`) that stops a scheduled account erasure; no sign-in needed. */
export default function ErasureCancel() {
  const { query } = useLocation();
  const token = query.token ?? "";
  const action = useAction();
  const [cancelled, setCancelled] = useState(false);
  const cancel = async () => {
    if (await action.run(() => api.POST("/v1/erasure/cancel", { body: { token } }))) setCancelled(true);
  };
  return (
    <Page title="Keep your account">
      {cancelled ? (
        <p role="status">The erasure is cancelled: your account and its data stay.</p>
      ) : token ? (
        <>
          <p>Your account is scheduled to be erased. Cancel the erasure to keep it.</p>
          <button type="button" onClick={cancel} aria-busy={action.pending} disabled={action.pending}>
            Cancel the erasure
          </button>
        </>
      ) : (
        <p>This link has no token. Open the link from the email again.</p>
      )}
      <Problem problem={action.problem} />
    </Page>
  );
}
