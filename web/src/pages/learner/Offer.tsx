import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";
import { enrollmentLabel, myEnrollmentIn } from "./enrollment-state";

/** The emailed seat offer (`/courses/:courseId/offer`): take the seat or let the next in line have it, before it expires. */
export default function Offer({ courseId }: { courseId: string }) {
  const enrollment = useApi(() => myEnrollmentIn(courseId), [courseId]);
  const action = useAction();
  const [outcome, setOutcome] = useState<string | null>(null);
  const answer = async (choice: "accept" | "decline") => {
    const result = await action.run(() => api.POST(choice === "accept" ? "/v1/courses/{courseId}/enrollments/offer/accept" : "/v1/courses/{courseId}/enrollments/offer/decline", { params: { path: { courseId } } }));
    if (result) setOutcome(choice === "accept" ? "The seat is yours." : "You declined the seat.");
  };
  const e = enrollment.data;
  return (
    <Page title={e ? `A seat in ${e.courseTitle}` : "Seat offer"}>
      {enrollment.loading ? <Loading /> : null}
      <Problem problem={enrollment.problem} />
      {outcome ? (
        <p role="status">
          {outcome} <a href={`/courses/${courseId}`}>Open the course</a>.
        </p>
      ) : e?.status === "offered" ? (
        <>
          <p>A seat has freed up and it is offered to you{e.offerExpiresAt ? `; the offer expires ${formatDateTime(e.offerExpiresAt)}` : ""}.</p>
          <div class="grid">
            <button type="button" onClick={() => answer("accept")} disabled={action.pending} aria-busy={action.pending}>
              Accept the seat
            </button>
            <button type="button" class="secondary" onClick={() => answer("decline")} disabled={action.pending}>
              Decline
            </button>
          </div>
        </>
      ) : enrollment.data !== null || !enrollment.loading ? (
        <p>
          {e ? `${enrollmentLabel(e)}: there is no open offer.` : "You have no seat offer in this course."} <a href={`/courses/${courseId}`}>Open the course</a>.
        </p>
      ) : null}
      <Problem problem={action.problem} />
    </Page>
  );
}
