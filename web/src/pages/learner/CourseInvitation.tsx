import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { useAction } from "../../lib/use-api";
import { enrollmentLabel, type MyEnrollment } from "./enrollment-state";

/** The emailed course invitation (`/invitations/accept?token=`); the route's guard signs the user in first. */
export default function CourseInvitation() {
  const { query } = useLocation();
  const token = query.token ?? "";
  const action = useAction();
  const [enrollment, setEnrollment] = useState<Omit<MyEnrollment, "courseTitle"> | null>(null);
  const accept = async () => {
    const result = await action.run(() => api.POST("/v1/invitations/accept", { body: { token } }));
    if (result) setEnrollment(result);
  };
  return (
    <Page title="Course invitation">
      {!token ? <p>This link has no token. Open the link from the invitation email again.</p> : null}
      {enrollment ? (
        <p role="status">
          {enrollmentLabel(enrollment)}. <a href={`/courses/${enrollment.courseId}`}>Open the course</a>.
        </p>
      ) : token ? (
        <>
          <p>You are invited to a course. Accept to take your place in it.</p>
          <button type="button" onClick={accept} aria-busy={action.pending} disabled={action.pending}>
            Accept the invitation
          </button>
        </>
      ) : null}
      <Problem problem={action.problem} />
    </Page>
  );
}
