import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useSession } from "../../lib/use-session";
import { useAction, useApi } from "../../lib/use-api";
import { leaveStatusText } from "./leave-status";

/** One leave application: the applicant sees its status and decision (and may withdraw it); an approver decides. */
export default function LeaveApplication({ applicationId }: { applicationId: string }) {
  const { user } = useSession();
  const app = useApi(() => api.GET("/v1/leave-applications/{applicationId}", { params: { path: { applicationId } } }), [applicationId]);
  const action = useAction();
  const [comment, setComment] = useState("");
  const [status, setStatus] = useState("");
  const a = app.data;
  const open = a?.status === "pending" || a?.status === "escalated";

  const decide = async (decision: "approve" | "reject") => {
    const done = await action.run(() => api.POST("/v1/leave-applications/{applicationId}/decision", { params: { path: { applicationId } }, body: { decision, ...(comment.trim() ? { comment: comment.trim() } : {}) } }));
    if (done) {
      setStatus(decision === "approve" ? "The application is approved." : "The application is rejected.");
      app.reload();
    }
  };
  const withdraw = async () => {
    if (await action.run(() => api.POST("/v1/leave-applications/{applicationId}/withdraw", { params: { path: { applicationId } } }))) {
      setStatus("Your application is withdrawn.");
      app.reload();
    }
  };

  return (
    <Page title="Leave application">
      <p>
        <a href="/leave">My leave</a>
      </p>
      {app.loading && !a ? <Loading what="Loading the application" /> : null}
      <Problem problem={app.problem} />
      <p role="status">{status}</p>
      {a ? (
        <>
          <dl>
            <dt>Status</dt>
            <dd>{leaveStatusText[a.status]}</dd>
            <dt>From</dt>
            <dd>{formatDateTime(a.startsAt)}</dd>
            <dt>Until</dt>
            <dd>{formatDateTime(a.endsAt)}</dd>
            <dt>Reason</dt>
            <dd>{a.reason}</dd>
            <dt>Applied</dt>
            <dd>{formatDateTime(a.createdAt)}</dd>
            {a.decidedAt ? (
              <>
                <dt>Decided</dt>
                <dd>{formatDateTime(a.decidedAt)}</dd>
                <dt>Comment</dt>
                <dd>{a.decisionComment ?? "None"}</dd>
              </>
            ) : null}
          </dl>
          {a.documentUrl ? (
            <p>
              <a href={a.documentUrl}>The supporting document</a>
            </p>
          ) : null}
          <Problem problem={action.problem} />
          {a.canDecide && open ? (
            <form onSubmit={(e) => e.preventDefault()}>
              <h2>Decide</h2>
              <label for="decision-comment">
                Comment for the applicant (optional)
                <textarea id="decision-comment" rows={3} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
              </label>
              <div role="group" aria-label="Decision">
                <button type="button" onClick={() => void decide("approve")} disabled={action.pending}>
                  Approve
                </button>
                <button type="button" class="secondary" onClick={() => void decide("reject")} disabled={action.pending}>
                  Reject
                </button>
              </div>
            </form>
          ) : null}
          {user?.id === a.applicantUserId && open ? (
            <button type="button" class="secondary outline" onClick={() => void withdraw()} disabled={action.pending}>
              Withdraw my application
            </button>
          ) : null}
        </>
      ) : null}
    </Page>
  );
}
