import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { classSessions, courses } from "../db/schema/index.js";
import { fail, ok, type Result } from "../shared/result.js";
import { learnerAttends, staffWorksAt } from "./attendees.js";
import type { SessionView } from "./session-view.js";

export type ScheduleRole = "learner" | "staff";

/** A session on someone's schedule: the session's own fields, its course's title and the caller's role there. */
export type ScheduleEntry = Pick<
  SessionView,
  "courseId" | "sectionId" | "seriesId" | "title" | "startsAt" | "endsAt" | "timeZone" | "location" | "onlineUrl" | "status" | "cancelReason" | "version" | "updatedAt"
> & { sessionId: string; courseTitle: string; role: ScheduleRole };

export interface DueEntry {
  assessmentId: string;
  courseId: string;
  courseTitle: string;
  title: string;
  dueAt: Date;
  role: ScheduleRole;
}

export interface Schedule {
  sessions: ScheduleEntry[];
  dueDates: DueEntry[];
  /** more than `limit` sessions or due dates fell in the range: ask for a shorter one */
  truncated: boolean;
}

/** The longest range one schedule read covers. */
const MAX_RANGE_DAYS = 366;
const DAY_MS = 86_400_000;

export function checkRange(from: Date, to: Date): Result<{ from: Date; to: Date }, "SCHEDULE_RANGE_INVALID"> {
  if (!(to.getTime() > from.getTime())) return fail("SCHEDULE_RANGE_INVALID", "`to` must be after `from`.");
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) return fail("SCHEDULE_RANGE_INVALID", `A range spans at most ${MAX_RANGE_DAYS} days.`);
  return ok({ from, to });
}

/**
 * A user's sessions in [from, to) as a learner (their active courses, whole-course and own-section sessions) and
 * as staff (their current courses' within their section scope, and those they lead there), cancelled ones included
 * and marked; staff wins when both apply. Plus the due dates of their courses' assessments (a learner's own
 * extension moves theirs). Archived courses are left out of both. At most `limit` of each, earliest first.
 */
export async function mySchedule(db: Executor, userId: string, from: Date, to: Date, limit: number): Promise<Result<Schedule, "SCHEDULE_RANGE_INVALID">> {
  const range = checkRange(from, to);
  return range.ok ? ok(await scheduleOf(db, userId, range.value, limit)) : range;
}

/** scheduleOf without the range check, for callers that pick the range themselves (the calendar feed). */
export async function scheduleOf(db: Executor, userId: string, range: { from: Date; to: Date }, limit: number): Promise<Schedule> {
  // One query, each role's branch cut at limit + 1 (the first limit + 1 of the union are among them): a feed poll
  // never loads a year of sessions to keep the first thousand. Archived courses are left out, as for due dates.
  const inRange = sql`${classSessions.startsAt} < ${range.to.toISOString()}::timestamptz and ${classSessions.endsAt} > ${range.from.toISOString()}::timestamptz
    and exists (select 1 from ${courses} c where c.id = ${classSessions.courseId} and c.status <> 'archived')`;
  const sessions = await db.execute<{
    id: string; course_id: string; course_title: string; section_id: string | null; series_id: string | null; title: string; starts_at: string; ends_at: string;
    time_zone: string; location: string | null; online_url: string | null; status: "scheduled" | "cancelled"; cancel_reason: string | null; version: number; updated_at: string;
    role: ScheduleRole;
  }>(sql`
    with mine as (
      (select ${classSessions.id} as id, true as staff from ${classSessions} where ${inRange} and ${staffWorksAt(userId)}
        order by ${classSessions.startsAt}, ${classSessions.id} limit ${limit + 1})
      union all
      (select ${classSessions.id}, false from ${classSessions} where ${inRange} and ${learnerAttends(userId)}
        order by ${classSessions.startsAt}, ${classSessions.id} limit ${limit + 1})
    ), roles as (select id, case when bool_or(staff) then 'staff' else 'learner' end as role from mine group by id)
    select s.id, s.course_id, c.title as course_title, s.section_id, s.series_id, s.title, s.starts_at, s.ends_at, s.time_zone, s.location, s.online_url,
      s.status, s.cancel_reason, s.version, s.updated_at, r.role
    from roles r join class_sessions s on s.id = r.id join courses c on c.id = s.course_id
    order by s.starts_at, s.id limit ${limit + 1}`);
  const dueDates = await db.execute<{ assessment_id: string; course_id: string; course_title: string; title: string; due_at: string; role: ScheduleRole }>(sql`
    select a.id as assessment_id, a.course_id, c.title as course_title, a.title, coalesce(x.due_at, a.due_at) as due_at, 'learner' as role
    from enrollments e
      join courses c on c.id = e.course_id and c.status <> 'archived'
      join assessments a on a.course_id = e.course_id
      left join assessment_extensions x on x.assessment_id = a.id and x.user_id = e.user_id
    where e.user_id = ${userId} and e.status = 'active'
      and coalesce(x.due_at, a.due_at) >= ${range.from.toISOString()}::timestamptz and coalesce(x.due_at, a.due_at) < ${range.to.toISOString()}::timestamptz
      and not exists (select 1 from course_staff cs where cs.course_id = a.course_id and cs.user_id = ${userId})
    union all
    select a.id, a.course_id, c.title, a.title, a.due_at, 'staff'
    from course_staff cs
      join courses c on c.id = cs.course_id and c.status <> 'archived'
      join assessments a on a.course_id = cs.course_id
    where cs.user_id = ${userId} and a.due_at >= ${range.from.toISOString()}::timestamptz and a.due_at < ${range.to.toISOString()}::timestamptz
    order by due_at, assessment_id limit ${limit + 1}`);
  return {
    sessions: sessions.slice(0, limit).map((r) => ({
      sessionId: r.id,
      courseId: r.course_id,
      courseTitle: r.course_title,
      sectionId: r.section_id,
      seriesId: r.series_id,
      title: r.title,
      startsAt: new Date(r.starts_at),
      endsAt: new Date(r.ends_at),
      timeZone: r.time_zone,
      location: r.location,
      onlineUrl: r.online_url,
      status: r.status,
      cancelReason: r.cancel_reason,
      role: r.role,
      version: r.version,
      updatedAt: new Date(r.updated_at),
    })),
    dueDates: dueDates.slice(0, limit).map((r) => ({ assessmentId: r.assessment_id, courseId: r.course_id, courseTitle: r.course_title, title: r.title, dueAt: new Date(r.due_at), role: r.role })),
    truncated: sessions.length > limit || dueDates.length > limit,
  };
}
