import { useRef, useState } from "preact/hooks";
import { api, type Schemas } from "../../api/client";
import { isStaff } from "../../api/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";
import { useSession } from "../../lib/use-session";
import { CourseAssessments } from "./course-assessments";
import { enrollmentLabel, myEnrollmentIn } from "./enrollment-state";
import { CourseProgress } from "./Home";

type Course = Schemas["Course"];

/** A course: what it is, the learner's place in it (enroll, waitlist, drop out), and its modules and lessons. */
export default function CoursePage({ courseId }: { courseId: string }) {
  const { user } = useSession();
  const course = useApi(() => api.GET("/v1/courses/{courseId}", { params: { path: { courseId } } }), [courseId]);
  const enrollment = useApi(() => (user ? myEnrollmentIn(courseId) : Promise.resolve({ data: null, response: new Response() })), [courseId, user?.id]);
  const teaches = Boolean(user && (user.roles.includes("admin") || user.courseRoles.some((r) => r.courseId === courseId)));
  const active = enrollment.data?.status === "active";
  // Held here, not in the panel: the panel is replaced while the enrollment reloads, and the message must stay.
  const [message, setMessage] = useState<string | null>(null);
  // The status takes the focus after enrolling or leaving: the button pressed is gone with the panel's new state.
  const status = useRef<HTMLDivElement>(null);

  if (course.loading && !course.data) return <Loading what="Loading the course" />;
  if (!course.data) {
    return (
      <Page title="Course">
        <Problem problem={course.problem} />
      </Page>
    );
  }
  const c = course.data;
  return (
    <Page title={c.title} actions={teaches && isStaff(user) ? <a href={`/courses/${courseId}/manage`}>Manage this course</a> : null}>
      {c.code ? <p class="muted">{c.code}</p> : null}
      <p>{c.description}</p>
      <Seats course={c} />
      {c.paymentRequired ? (
        <p>
          <strong>Fees:</strong> this course has a fee; your seat is held until it is paid, then your enrollment becomes active.
        </p>
      ) : null}
      {user ? (
        enrollment.loading && enrollment.data === null ? null : (
          <EnrollmentPanel
            course={c}
            enrollment={enrollment.data}
            userId={user.id}
            status={status}
            onChange={(text) => {
              setMessage(text);
              enrollment.reload();
              course.reload();
              status.current?.focus();
            }}
          />
        )
      ) : (
        <p>
          <a href={`/sign-in?next=${encodeURIComponent(`/courses/${courseId}`)}`}>Sign in</a> to enroll.
        </p>
      )}
      <div role="status" tabIndex={-1} ref={status}>
        {message ? <p>{message}</p> : null}
      </div>
      <Problem problem={enrollment.problem} />
      {active ? <CourseProgress courseId={courseId} /> : null}
      {active || teaches ? <Outline courseId={courseId} /> : null}
      {active || teaches ? <CourseAssessments courseId={courseId} /> : null}
    </Page>
  );
}

function Seats({ course: c }: { course: Course }) {
  const seats = c.seatsAvailable == null ? "Open enrollment: no seat limit." : c.seatsAvailable > 0 ? `${c.seatsAvailable} of ${c.capacity} seats left.` : c.waitlistEnabled ? "The course is full; the waitlist is open." : "The course is full.";
  return (
    <p>
      {seats}
      {c.enrollmentClosesAt ? ` Enrollment closes ${formatDateTime(c.enrollmentClosesAt)}.` : ""}
    </p>
  );
}

function EnrollmentPanel({
  course: c,
  enrollment,
  userId,
  status,
  onChange,
}: {
  course: Course;
  enrollment: Awaited<ReturnType<typeof myEnrollmentIn>>["data"] | null;
  userId: string;
  status: { current: HTMLElement | null };
  onChange: (message: string) => void;
}) {
  const action = useAction();
  const enroll = async () => {
    const result = await action.run(() => api.POST("/v1/courses/{courseId}/enrollments", { params: { path: { courseId: c.id } }, body: {} }));
    if (result) onChange(result.status === "waitlisted" ? `You are on the waitlist${result.position == null ? "" : `, number ${result.position}`}.` : result.status === "active" ? "You are enrolled." : `${enrollmentLabel(result)}.`);
  };
  const drop = async () => {
    const result = await action.run(() => api.DELETE("/v1/courses/{courseId}/enrollments/{userId}", { params: { path: { courseId: c.id, userId } } }));
    if (result !== null) onChange("You left the course.");
  };
  const current = enrollment && ["active", "waitlisted", "offered", "pending-payment", "suspended"].includes(enrollment.status) ? enrollment : null;
  const full = c.seatsAvailable != null && c.seatsAvailable <= 0;
  return (
    <section aria-labelledby="enrollment-heading">
      <h2 id="enrollment-heading">Your enrollment</h2>
      {current ? <p>{enrollmentLabel(current)}.</p> : <p>You are not enrolled.</p>}
      {current?.status === "offered" ? (
        <p>
          <a href={`/courses/${c.id}/offer`}>Accept or decline the seat</a>
          {current.offerExpiresAt ? ` (until ${formatDateTime(current.offerExpiresAt)})` : ""}
        </p>
      ) : null}
      {!current && c.status === "published" && c.selfEnrollment ? (
        <button type="button" onClick={enroll} aria-busy={action.pending} disabled={action.pending}>
          {full ? "Join the waitlist" : "Enroll"}
        </button>
      ) : null}
      {current && current.status !== "offered" ? (
        <ConfirmButton
          label={current.status === "waitlisted" ? "Leave the waitlist" : "Drop out"}
          question={`Leave “${c.title}”?`}
          confirmLabel="Yes, leave"
          pending={action.pending}
          onConfirm={drop}
          focusAfter={status}
        />
      ) : null}
      <Problem problem={action.problem} />
    </section>
  );
}

function Outline({ courseId }: { courseId: string }) {
  const modules = useApi(() => api.GET("/v1/courses/{courseId}/modules", { params: { path: { courseId } } }), [courseId]);
  return (
    <section aria-labelledby="outline-heading">
      <h2 id="outline-heading">Modules and lessons</h2>
      {modules.loading ? <Loading what="Loading the lessons" /> : null}
      <Problem problem={modules.problem} />
      {modules.data?.items.length === 0 ? <p>No lessons yet.</p> : null}
      {modules.data?.items.map((m) => (
        <section key={m.id} aria-labelledby={`module-${m.id}`}>
          <h3 id={`module-${m.id}`}>
            {m.title}
            {m.hidden ? " (hidden from learners)" : ""}
          </h3>
          <ol>
            {(m.lessons ?? []).map((l) => (
              <li key={l.id}>
                {l.locked ? <span>{l.title}</span> : <a href={`/lessons/${l.id}`}>{l.title}</a>}
                <span class="muted"> — {lessonState(l)}</span>
              </li>
            ))}
          </ol>
        </section>
      ))}
    </section>
  );
}

/** A lesson's state in words: locked (and why), done, hidden, optional. */
export function lessonState(l: Schemas["Lesson"]): string {
  const parts: string[] = [];
  if (l.locked === "unlocks-later") parts.push(`locked until ${formatDateTime(l.unlockAt)}`);
  else if (l.locked === "earlier-lessons-first") parts.push("locked: finish the earlier lessons first");
  else if (l.completed) parts.push("done");
  else if (l.completed === false) parts.push("not done yet");
  if (l.hidden) parts.push("hidden from learners");
  if (!l.required) parts.push("optional");
  return parts.join(", ") || l.kind;
}
