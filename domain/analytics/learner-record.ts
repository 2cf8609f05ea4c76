/**
 * A learner's standing in one course, as the analytics read model keeps it. It is folded from events
 * that may arrive twice or in any order, so every field merges commutatively and idempotently: sets for
 * completions, the highest revision for progress, the newest event for grades, the earliest/latest times, and the
 * enrollment status of the newest event (ties broken by event id).
 */
export interface LearnerRecord {
  courseId: string;
  learnerId: string;
  status: "active" | "dropped" | null;
  /** `<occurredAt>|<eventId>` of the event that set `status`: later keys win. */
  statusKey: string | null;
  enrolledAt: string | null;
  droppedAt: string | null;
  completedAt: string | null;
  progress: { percent: number; revision: number } | null;
  /** Sorted lesson ids. */
  lessonsCompleted: string[];
  /** The newest published grade per assessment (`key` as for status: the newest event wins, as in progress). */
  grades: Record<string, { percent: number; key: string }>;
  lastActiveAt: string | null;
}

/** An event of the catalog as the analytics fold needs it. */
export interface AnalyticsEvent {
  id: string;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

export function emptyRecord(courseId: string, learnerId: string): LearnerRecord {
  return { courseId, learnerId, status: null, statusKey: null, enrolledAt: null, droppedAt: null, completedAt: null, progress: null, lessonsCompleted: [], grades: {}, lastActiveAt: null };
}

const earliest = (a: string | null, b: string): string => (a === null || b < a ? b : a);
const latest = (a: string | null, b: string): string => (a === null || b > a ? b : a);

function withStatus(r: LearnerRecord, status: "active" | "dropped", e: AnalyticsEvent): LearnerRecord {
  const key = `${e.occurredAt}|${e.id}`;
  return r.statusKey !== null && r.statusKey >= key ? r : { ...r, status, statusKey: key };
}

/** The events that change a learner's record; others leave it as it is. */
export const analyticsEventTypes = ["enrollment.created", "enrollment.promoted", "enrollment.dropped", "lesson.completed", "grade.published", "progress.updated", "course.completed", "submission.submitted", "certificate.issued"] as const;

/** Events that are something the learner did (grades and progress happen to them). */
export const learnerActions: ReadonlySet<string> = new Set(["enrollment.created", "lesson.completed", "submission.submitted"]);

export function applyEvent(record: LearnerRecord, e: AnalyticsEvent): LearnerRecord {
  let r: LearnerRecord = learnerActions.has(e.type) ? { ...record, lastActiveAt: latest(record.lastActiveAt, e.occurredAt) } : { ...record };
  const d = e.data;
  switch (e.type) {
    case "enrollment.created":
    case "enrollment.promoted":
      r = withStatus({ ...r, enrolledAt: earliest(r.enrolledAt, e.occurredAt) }, "active", e);
      break;
    case "enrollment.dropped":
      // A learner who only ever waited for a seat was never enrolled: not a drop-out.
      if (d.previousStatus === "active") r = withStatus({ ...r, droppedAt: latest(r.droppedAt, e.occurredAt) }, "dropped", e);
      break;
    case "lesson.completed": {
      const lessonId = String(d.lessonId);
      if (!r.lessonsCompleted.includes(lessonId)) r = { ...r, lessonsCompleted: [...r.lessonsCompleted, lessonId].sort() };
      break;
    }
    case "grade.published": {
      const assessmentId = String(d.assessmentId);
      const key = `${e.occurredAt}|${e.id}`;
      const held = r.grades[assessmentId];
      if (!held || key > held.key) r = { ...r, grades: { ...r.grades, [assessmentId]: { percent: Number(d.percent), key } } };
      break;
    }
    case "progress.updated": {
      const revision = Number(d.revision);
      if (!r.progress || revision > r.progress.revision) r = { ...r, progress: { percent: Number(d.percent), revision } };
      break;
    }
    case "course.completed":
      r = { ...r, completedAt: earliest(r.completedAt, String(d.completedAt ?? e.occurredAt)) };
      break;
    default:
      break;
  }
  return r;
}
