import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";

/** One learner's attendance in one course: present and late count as attended, excused counts for nothing. */
export interface AttendanceRate {
  courseId: string;
  userId: string;
  present: number;
  late: number;
  absent: number;
  excused: number;
  /** (present + late) / (present + late + absent) in percent, two decimals; null while nothing counts. */
  ratePercent: number | null;
}

/** The counts and rate of nothing counted (a learner or session absent from a rate map). */
export const noMarks: Omit<AttendanceRate, "courseId" | "userId"> = { present: 0, late: 0, absent: 0, excused: 0, ratePercent: null };

const round2 = (n: number) => Math.round(n * 100) / 100;

export function rateOf(counts: Omit<AttendanceRate, "ratePercent">): AttendanceRate {
  return { ...counts, ratePercent: ratePercentOf(counts) };
}

/** The rate rule alone, for any group of marks (a learner's, a session's). */
export function ratePercentOf(counts: { present: number; late: number; absent: number }): number | null {
  const counted = counts.present + counts.late + counts.absent;
  return counted === 0 ? null : round2(((counts.present + counts.late) / counted) * 100);
}

/** One session's attendance: the same rule over every learner's mark at it. */
export interface SessionAttendanceRate {
  sessionId: string;
  present: number;
  late: number;
  absent: number;
  excused: number;
  ratePercent: number | null;
}

/** Which learners' attendance to count: everyone's, some users', or the active learners of some sections. */
export type LearnerScope = { userIds: readonly string[] } | { sectionIds: readonly string[] } | null;

interface CountFilter {
  courseId?: string;
  courseIds?: readonly string[];
  sessionIds?: readonly string[];
  learners: LearnerScope;
}

const uuids = (ids: readonly string[]) => sql`${sql.param([...ids])}::uuid[]`;

function learnerCondition(userColumn: SQL, learners: LearnerScope): SQL {
  if (learners === null) return sql`true`;
  if ("userIds" in learners) return sql`${userColumn} = any(${uuids(learners.userIds)})`;
  return sql`exists (select 1 from enrollments se where se.course_id = s.course_id and se.user_id = ${userColumn} and se.status = 'active'
    and se.section_id = any(${uuids(learners.sectionIds)}))`;
}

/**
 * What counts, one row per (session, learner): every mark at a session that is not cancelled and has started by
 * `asOf`, and an `absent` for each expected learner without a mark at a session that has ENDED by `asOf` and at
 * which attendance was taken (it has at least one mark, by anyone). Expected: an active enrollment in the course,
 * the session for the whole course or the learner's section, enrolled before the session started. A session nobody
 * took attendance at counts for nobody, so a course that never takes attendance has no rates.
 */
function countedMarks(filter: CountFilter, asOf: Date): SQL {
  const at = sql`${asOf.toISOString()}::timestamptz`;
  const sessionConditions = [sql`cs.status <> 'cancelled'`, sql`cs.starts_at <= ${at}`];
  if (filter.courseId) sessionConditions.push(sql`cs.course_id = ${filter.courseId}::uuid`);
  if (filter.courseIds) sessionConditions.push(sql`cs.course_id = any(${uuids(filter.courseIds)})`);
  if (filter.sessionIds) sessionConditions.push(sql`cs.id = any(${uuids(filter.sessionIds)})`);
  return sql`with s as (
      select cs.id, cs.course_id, cs.section_id, cs.starts_at, cs.ends_at from class_sessions cs where ${sql.join(sessionConditions, sql` and `)}
    )
    select s.id as session_id, s.course_id, m.user_id, m.status from s join attendance_marks m on m.session_id = s.id
      where ${learnerCondition(sql`m.user_id`, filter.learners)}
    union all
    select s.id, s.course_id, e.user_id, 'absent' from s
      join enrollments e on e.course_id = s.course_id and e.status = 'active'
        and (s.section_id is null or s.section_id = e.section_id)
        and coalesce(e.enrolled_at, e.created_at) <= s.starts_at
      where s.ends_at <= ${at}
        and exists (select 1 from attendance_marks t where t.session_id = s.id)
        and not exists (select 1 from attendance_marks m where m.session_id = s.id and m.user_id = e.user_id)
        and ${learnerCondition(sql`e.user_id`, filter.learners)}`;
}

const counts = sql`count(*) filter (where c.status = 'present')::int as present, count(*) filter (where c.status = 'late')::int as late,
  count(*) filter (where c.status = 'absent')::int as absent, count(*) filter (where c.status = 'excused')::int as excused`;

/**
 * Per-session rates in one grouped query, over the learners in `learners` (null: everyone); a session where nothing
 * counts is absent from the map. What counts is `countedMarks`'s rule.
 */
export async function sessionAttendanceRates(db: Executor, sessionIds: readonly string[], learners: LearnerScope, asOf: Date): Promise<Map<string, SessionAttendanceRate>> {
  if (sessionIds.length === 0 || (learners && ("userIds" in learners ? learners.userIds : learners.sectionIds).length === 0)) return new Map();
  const rows = await db.execute<{ session_id: string; present: number; late: number; absent: number; excused: number }>(
    sql`select c.session_id, ${counts} from (${countedMarks({ sessionIds, learners }, asOf)}) c group by c.session_id`,
  );
  return new Map(
    [...rows].map((r) => [r.session_id, { sessionId: r.session_id, present: r.present, late: r.late, absent: r.absent, excused: r.excused, ratePercent: ratePercentOf(r) }]),
  );
}

/** Rates by `${courseId}:${userId}`, as attendanceRates answers them. */
export type AttendanceRates = Map<string, AttendanceRate>;

/**
 * Attendance rates grouped by (course, learner), in one query, by `countedMarks`'s rule: marks at sessions that are
 * not cancelled and have started by `asOf`, and absences of expected learners left unmarked at ended sessions whose
 * attendance was taken. Filter by course (or a batch of courses), by learners, by sessions (a report's date range
 * or sections), or by several; a learner with nothing counted is absent from the map.
 */
export async function attendanceRates(
  db: Executor,
  filter: { courseId?: string; courseIds?: readonly string[]; userIds?: readonly string[]; sessionIds?: readonly string[] },
  asOf: Date,
): Promise<AttendanceRates> {
  if ([filter.courseIds, filter.userIds, filter.sessionIds].some((ids) => ids?.length === 0)) return new Map();
  const rows = await db.execute<{ course_id: string; user_id: string; present: number; late: number; absent: number; excused: number }>(
    sql`select c.course_id, c.user_id, ${counts} from (${countedMarks(
      {
        ...(filter.courseId ? { courseId: filter.courseId } : {}),
        ...(filter.courseIds ? { courseIds: filter.courseIds } : {}),
        ...(filter.sessionIds ? { sessionIds: filter.sessionIds } : {}),
        learners: filter.userIds ? { userIds: filter.userIds } : null,
      },
      asOf,
    )}) c group by c.course_id, c.user_id`,
  );
  return new Map(
    [...rows].map((r) => [`${r.course_id}:${r.user_id}`, rateOf({ courseId: r.course_id, userId: r.user_id, present: r.present, late: r.late, absent: r.absent, excused: r.excused })]),
  );
}
