import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { coursePrerequisites, courses, courseStaff, type EnrollmentSource, enrollments, outbox, users, LIVE_STATUSES } from "../db/schema/index.js";
import { eventCatalog } from "../events/catalog.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { emailNotVerified, mayNotEnroll, type UnverifiedAccess } from "../identity/email-verification.js";
import { paymentDueAt, paymentFirstSql } from "../finance/fees.js";
import type { EnrollmentErrorCode } from "./enrollment.errors.js";
import type { EnrollmentView } from "./enrollment-view.js";

export interface EnrollRequest {
  courseId: string;
  userId: string;
  /**
   * `self`: published courses, inside the enrollment window, with prerequisites (a learner who is on the
   * course's staff enrolls as `staff`). `invitation`: the invitation stands in for the window. `staff`: staff
   * and admins override the window and prerequisites, never the capacity.
   */
  source: EnrollmentSource;
  /**
   * What a learner whose address is not confirmed may do (the `AUTH_UNVERIFIED_ACCESS` setting): anything but
   * `full` refuses `self` and `invitation` enrollments (waitlist included) with `EMAIL_NOT_VERIFIED`. Staff
   * enrolling someone are not held back by it. Left out (system callers): no restriction.
   */
  unverifiedAccess?: UnverifiedAccess;
}

/** What enrolling needs to know that does not need the seat, read in one query without any lock. */
interface Standing {
  status: "draft" | "published" | "archived";
  selfEnrollment: boolean;
  opensAt: Date | null;
  closesAt: Date | null;
  userExists: boolean;
  userVerified: boolean;
  /** The learner is on the course's staff. */
  userIsStaff: boolean;
  existing: { status: "active" | "waitlisted" | "offered" | "pending-payment" | "suspended"; position: number | null } | null;
  missing: { courseId: string; title: string }[];
}

async function standing(db: Executor, courseId: string, userId: string): Promise<Standing | null> {
  const rows = await db.execute<{
    status: Standing["status"];
    self_enrollment: boolean;
    opens_at: string | null;
    closes_at: string | null;
    // null when there is no such user
    user_verified: boolean | null;
    user_is_staff: boolean;
    existing: Standing["existing"];
    missing: Standing["missing"];
  }>(sql`
    select c.status, c.self_enrollment, c.enrollment_opens_at as opens_at, c.enrollment_closes_at as closes_at,
      (select u.email_verified_at is not null from ${users} u where u.id = ${userId}) as user_verified,
      exists (select 1 from ${courseStaff} s where s.course_id = c.id and s.user_id = ${userId}) as user_is_staff,
      (select json_build_object('status', e.status, 'position', case when e.status = 'waitlisted' then (
          select count(*)::int from ${enrollments} w where w.course_id = e.course_id and w.status = 'waitlisted' and w.waitlist_seq <= e.waitlist_seq) end)
        from ${enrollments} e where e.course_id = c.id and e.user_id = ${userId} and e.status in ${LIVE_STATUSES}) as existing,
      coalesce((select json_agg(json_build_object('courseId', r.id, 'title', r.title) order by r.title)
        from ${coursePrerequisites} p join ${courses} r on r.id = p.required_course_id
        where p.course_id = c.id
          and not exists (select 1 from ${enrollments} d where d.course_id = p.required_course_id and d.user_id = ${userId} and d.completed_at is not null)
      ), '[]'::json) as missing
    from ${courses} c where c.id = ${courseId}`);
  const r = rows[0];
  if (!r) return null;
  return {
    status: r.status,
    selfEnrollment: r.self_enrollment,
    opensAt: r.opens_at === null ? null : new Date(r.opens_at),
    closesAt: r.closes_at === null ? null : new Date(r.closes_at),
    userExists: r.user_verified !== null,
    userVerified: r.user_verified === true,
    userIsStaff: r.user_is_staff,
    existing: r.existing,
    missing: r.missing,
  };
}

/** Why the learner cannot join now, judged on an unlocked read (the seat statement checks the status again). */
function refusal(s: Standing, req: EnrollRequest, now: Date): Result<never, EnrollmentErrorCode> | null {
  if (s.status === "archived") return fail("COURSE_ARCHIVED", "The course is archived.");
  if (req.source !== "staff" && s.status !== "published") return fail("COURSE_NOT_PUBLISHED", "The course is not open yet.");
  if (req.source === "self") {
    if (!s.selfEnrollment) return fail("ENROLLMENT_CLOSED", "This course takes enrollments from its staff or by invitation only.");
    if (s.opensAt && now < s.opensAt) return fail("ENROLLMENT_CLOSED", "Enrollment has not opened yet.", { opensAt: s.opensAt.toISOString() });
    if (s.closesAt && now >= s.closesAt) return fail("ENROLLMENT_CLOSED", "Enrollment has closed.", { closedAt: s.closesAt.toISOString() });
  }
  if (!s.userExists) return fail("USER_NOT_FOUND");
  if (req.source !== "staff" && req.unverifiedAccess && mayNotEnroll(req.unverifiedAccess, s.userVerified)) {
    const { code, detail } = emailNotVerified("enroll in a course");
    return fail(code, detail);
  }
  if (s.existing) {
    return fail("ALREADY_ENROLLED", `You are ${s.existing.status} in this course.`, { status: s.existing.status, position: s.existing.position });
  }
  if (req.source !== "staff" && s.missing.length) {
    return fail("PREREQUISITES_MISSING", `Complete first: ${s.missing.map((m) => m.title).join(", ")}.`, { missing: s.missing });
  }
  return null;
}

/**
 * Enrolls a learner, or puts them in line when the course is full and has a waitlist. Everything that does
 * not need the seat (the course's status and window, the user, a live enrollment, prerequisites) is read
 * first, without a lock. Then the seat or the place in line is taken under the course row lock, which every
 * change of seats and waitlist takes: concurrent enrollments never overbook a course and get dense, unique
 * waitlist positions. The lock and the one statement that does the work are sent together (pipelined), so
 * the lock is held for that statement and the commit, not for round trips. Must run in a transaction.
 */
export async function enroll(ctx: DomainContext, req: EnrollRequest): Promise<Result<EnrollmentView, EnrollmentErrorCode>> {
  const now = ctx.now();
  const before = await standing(ctx.db, req.courseId, req.userId);
  if (!before) return fail("COURSE_NOT_FOUND");
  if (req.source === "self" && before.userIsStaff) req = { ...req, source: "staff" };
  const refused = refusal(before, req, now);
  if (refused) return refused;

  const id = ctx.newId();
  const eventId = ctx.newId();
  const ref = { enrollmentId: id, courseId: req.courseId, userId: req.userId };
  // The event data is built by the statement (the position is known only there); check its shape here.
  eventCatalog["enrollment.created"].parse({ ...ref, source: req.source });
  const at = now.toISOString();
  // A course that asks for payment first holds the seat as pending-payment until then (decided in the statement,
  // on the locked course, so a fee created meanwhile counts).
  const dueAt = paymentDueAt(ctx, now).toISOString();
  eventCatalog["enrollment.pending-payment"].parse({ ...ref, source: req.source, paymentDueAt: dueAt });
  const actor = JSON.stringify({ userId: ctx.actor.userId, ...(ctx.actor.requestId ? { requestId: ctx.actor.requestId } : {}) });
  // Status and window again, on the locked row: they may have changed since the read above.
  const open =
    req.source === "staff"
      ? sql`k.status <> 'archived'`
      : req.source === "invitation"
        ? sql`k.status = 'published'`
        : sql`k.status = 'published' and k.self_enrollment
            and (k.enrollment_opens_at is null or k.enrollment_opens_at <= ${at}::timestamptz)
            and (k.enrollment_closes_at is null or k.enrollment_closes_at > ${at}::timestamptz)`;
  // The statement runs after the lock is granted, so its snapshot holds every earlier change of the course:
  // the seat count and the waitlisted rows it reads are current. A live enrollment of the same learner that
  // committed meanwhile makes the insert do nothing (the unique index), and nothing else happens.
  const lock = ctx.db.execute(sql`select 1 from ${courses} where id = ${req.courseId} for no key update`);
  const take = ctx.db.execute<{ status: "active" | "waitlisted" | "pending-payment"; position: number | null }>(sql`
    with k as (
      select k.id, (k.capacity is null or k.seats_taken < k.capacity) as seat, k.waitlist_enabled, ${paymentFirstSql(sql`k.id`)} as pay
      from ${courses} k where k.id = ${req.courseId} and ${open}
    ), line as (
      select count(*)::int + 1 as n from ${enrollments} w where w.course_id = ${req.courseId} and w.status = 'waitlisted'
    ), e as (
      insert into ${enrollments} (id, course_id, user_id, status, source, enrolled_at, waitlisted_at, payment_due_at, created_at, updated_at)
      select ${id}, k.id, ${req.userId}, case when not k.seat then 'waitlisted' when k.pay then 'pending-payment' else 'active' end, ${req.source},
        case when k.seat and not k.pay then ${at}::timestamptz end, case when k.seat then null else ${at}::timestamptz end,
        case when k.seat and k.pay then ${dueAt}::timestamptz end, ${at}::timestamptz, ${at}::timestamptz
      from k where k.seat or k.waitlist_enabled
      on conflict (course_id, user_id) where status in ${LIVE_STATUSES} do nothing
      returning id, course_id, user_id, status
    ), s as (
      update ${courses} set seats_taken = seats_taken + 1 from e where ${courses}.id = e.course_id and e.status <> 'waitlisted' returning 1
    ), o as (
      insert into ${outbox} (id, type, aggregate_type, aggregate_id, course_id, occurred_at, actor, data, traceparent)
      select ${eventId}, case e.status when 'active' then 'enrollment.created' when 'pending-payment' then 'enrollment.pending-payment' else 'enrollment.waitlisted' end,
        'enrollment', e.id, e.course_id, ${at}::timestamptz, ${actor}::jsonb,
        case e.status
          when 'active' then jsonb_build_object('enrollmentId', e.id, 'courseId', e.course_id, 'userId', e.user_id, 'source', ${req.source}::text)
          when 'pending-payment' then jsonb_build_object('enrollmentId', e.id, 'courseId', e.course_id, 'userId', e.user_id, 'source', ${req.source}::text, 'paymentDueAt', ${dueAt}::text)
          else jsonb_build_object('enrollmentId', e.id, 'courseId', e.course_id, 'userId', e.user_id, 'position', (select n from line)) end,
        ${ctx.actor.traceparent}
      from e returning 1
    )
    select e.status, case when e.status = 'waitlisted' then (select n from line) end as position from e`);
  const [, rows] = await Promise.all([lock, take]);
  const taken = rows[0];
  if (!taken) return afterRace(ctx, req, now);
  ctx.onEventRecorded?.();
  return ok({
    ...ref,
    id,
    status: taken.status,
    source: req.source,
    position: taken.status === "waitlisted" ? taken.position : null,
    sectionId: null,
    enrolledAt: taken.status === "active" ? now : null,
    waitlistedAt: taken.status === "waitlisted" ? now : null,
    offerExpiresAt: null,
    paymentDueAt: taken.status === "pending-payment" ? new Date(dueAt) : null,
    endedAt: null,
    completedAt: null,
    createdAt: now,
  });
}

/**
 * The seat statement did nothing: the course changed under the read (archived, closed, full without a
 * waitlist) or the same learner won a concurrent enrollment. Read again (the lock is held) and say which.
 */
async function afterRace(ctx: DomainContext, req: EnrollRequest, now: Date): Promise<Result<EnrollmentView, EnrollmentErrorCode>> {
  const after = await standing(ctx.db, req.courseId, req.userId);
  if (!after) return fail("COURSE_NOT_FOUND");
  return refusal(after, req, now) ?? fail("COURSE_FULL", "The course is full.");
}

/** For prerequisites and tests: courses the learner has completed. */
export async function completedCourseIds(db: Executor, userId: string): Promise<string[]> {
  const rows = await db
    .select({ courseId: enrollments.courseId })
    .from(enrollments)
    .where(and(eq(enrollments.userId, userId), isNotNull(enrollments.completedAt)));
  return rows.map((r) => r.courseId);
}
