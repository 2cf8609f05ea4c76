import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime, formatPercent } from "../../lib/format";
import { useApi } from "../../lib/use-api";
import { useSession } from "../../lib/use-session";
import { ResendVerification } from "../auth/ResendVerification";
import { enrollmentLabel, type MyEnrollment } from "./enrollment-state";

/** The start page: a welcome for visitors; the learner's courses (state and progress) once signed in. */
export default function Home() {
  const { user } = useSession();
  if (!user) {
    return (
      <Page title="Welcome to Ringlet">
        <p>
          <a href="/sign-in">Sign in</a> or <a href="/register">create an account</a> to enroll in courses. Anyone may browse the <a href="/courses">catalog</a>.
        </p>
      </Page>
    );
  }
  return (
    <Page title={`Welcome, ${user.displayName}`}>
      {user.emailVerified ? null : <ResendVerification />}
      <MyCourses />
    </Page>
  );
}

function MyCourses() {
  const enrollments = useApi(() => api.GET("/v1/me/enrollments", { params: { query: { limit: 100 } } }), []);
  // Ended enrollments (dropped, expired offers) are history, not "my courses".
  const current = enrollments.data?.items.filter((e) => ["active", "waitlisted", "offered", "pending-payment", "suspended"].includes(e.status)) ?? [];
  return (
    <section aria-labelledby="my-courses">
      <h2 id="my-courses">My courses</h2>
      {enrollments.loading ? <Loading what="Loading your courses" /> : null}
      <Problem problem={enrollments.problem} />
      {enrollments.data && current.length === 0 ? (
        <p>
          You are not enrolled in any course yet. Find one in the <a href="/courses">catalog</a>.
        </p>
      ) : null}
      <ul class="card-list" aria-label="My courses">
        {current.map((e) => (
          <li key={e.id}>
            <EnrollmentCard enrollment={e} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function EnrollmentCard({ enrollment: e }: { enrollment: MyEnrollment }) {
  return (
    <article>
      <h3>
        <a href={`/courses/${e.courseId}`}>{e.courseTitle}</a>
      </h3>
      <p>
        {enrollmentLabel(e)}
        {e.status === "offered" && e.offerExpiresAt ? ` until ${formatDateTime(e.offerExpiresAt)}` : ""}
      </p>
      {e.status === "offered" ? (
        <p>
          <a href={`/courses/${e.courseId}/offer`}>Accept or decline the seat</a>
        </p>
      ) : null}
      {e.status === "active" ? <CourseProgress courseId={e.courseId} /> : null}
    </article>
  );
}

/** The learner's progress in one course: a labelled progress bar with the percent also in words. */
export function CourseProgress({ courseId }: { courseId: string }) {
  const progress = useApi(() => api.GET("/v1/courses/{courseId}/progress", { params: { path: { courseId } } }), [courseId]);
  const mine = progress.data && "percent" in progress.data ? progress.data : null;
  if (!mine) return progress.problem ? <Problem problem={progress.problem} /> : null;
  const label = `Progress: ${formatPercent(mine.percent / 100)}${mine.complete ? ", complete" : ""}`;
  return (
    <div>
      <p>{label}</p>
      <progress value={mine.percent} max={100} aria-label={label} />
      {mine.next ? (
        <p>
          Next: <a href={`/lessons/${mine.next.lessonId}`}>{mine.next.title}</a>
        </p>
      ) : null}
    </div>
  );
}
