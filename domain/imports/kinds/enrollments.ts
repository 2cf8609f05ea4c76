import { sql } from "drizzle-orm";
import { z } from "zod";
import { type AuditEntry, recordAudits } from "../../audit/record-audit.js";
import { courses, courseStaff, courseStaffSections, type CourseRole, enrollments, type LiveStatus, users, LIVE_STATUSES } from "../../db/schema/index.js";
import type { EventType } from "../../events/catalog.js";
import type { DomainContext } from "../../shared/context.js";
import { csvCellValue } from "../../shared/csv.js";
import type { ImportRun, RowOutcome, RowPart, StagedRow } from "../import-kind.js";
import { type BatchEvent, recordEvents } from "../../outbox/record-events.js";
import { courseKey, courseRefusal, findSections, type ImportCourse, resolveCourses, sectionKey, sectionNameSchema, courseRefSchema } from "./roster-rows.js";
import { ensureUsers, importEmailSchema, importNameSchema } from "./users.js";
import { paymentDueAt, paymentFirstSql } from "../../finance/fees.js";
import { isSeatStatus, SEAT_STATUSES } from "../../sections/seat-statuses.js";

// The `enrollments` kind: a course's learners (with their section) and its staff, one row each; what
// GET /v1/courses/{id}/roster.csv writes. Learners are enrolled as the staff path enrolls them (the seat taken under
// the course row lock, never past the capacity); the course role grader is the teaching assistant.

/** As the file spells it; the teaching assistant is the course role grader. */
export type ImportRole = "learner" | "instructor" | "teaching-assistant";
const courseRoleOf = (role: Exclude<ImportRole, "learner">): CourseRole => (role === "teaching-assistant" ? "grader" : role);

export interface EnrollmentRow {
  course: string;
  email: string;
  role: ImportRole;
  section: string | null;
  name: string | null;
}

// A Map: a plain object would answer `constructor` or `__proto__` with what it inherits.
const roles = new Map<string, ImportRole>([
  ["", "learner"],
  ["learner", "learner"],
  ["instructor", "instructor"],
  ["teaching-assistant", "teaching-assistant"],
  ["grader", "teaching-assistant"],
  ["ta", "teaching-assistant"],
]);

/** A roster.csv cell back as it was before the export neutralised it (`'-ann@example.com` is `-ann@example.com`). */
const exported = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (typeof v === "string" ? csvCellValue(v) : v), schema);

const enrollmentRowSchema: z.ZodType<EnrollmentRow> = z.object({
  course: exported(courseRefSchema),
  email: exported(importEmailSchema),
  role: z
    .string()
    .optional()
    .transform((r, ctx) => {
      const role = roles.get((r ?? "").toLowerCase());
      if (role) return role;
      ctx.addIssue({ code: "custom", message: "role is not learner, instructor or teaching-assistant" });
      return z.NEVER;
    }),
  section: exported(sectionNameSchema.optional().transform((s) => (s ? s : null))),
  name: exported(importNameSchema.optional().transform((n) => (n ? n : null))),
});

const seats = (n: number) => `${n} ${n === 1 ? "seat" : "seats"}`;
const failed = (entity: string, reason: string): RowOutcome => ({ result: "failed", entity, reason });
const entityOf = (row: EnrollmentRow) => (row.role === "learner" ? "enrollment" : "staff");

type LiveEnrollment = {
  id: string;
  course_id: string;
  user_id: string;
  status: LiveStatus;
  section_id: string | null;
};

/**
 * Applies a batch set-based: one read per table (courses, sections, users through ensureUsers, enrollments, staff),
 * then one write per change (new enrollments, their seats, section moves, staff, section scopes, events, audit).
 * In a dry run the same decisions are made on the same reads and nothing is written.
 */
async function applyEnrollments(ctx: DomainContext, run: ImportRun, rows: StagedRow<EnrollmentRow>[]): Promise<RowOutcome[]> {
  const outcomes: (RowOutcome | null)[] = rows.map(() => null);
  const write = !run.dryRun;

  // Courses, locked for the seats they may give (every seat change takes this lock first, then the sections').
  const courseByRef = await resolveCourses(ctx, rows.map((r) => r.row.course), write);
  const courseOf = new Map<number, ImportCourse>();
  for (const [i, { row }] of rows.entries()) {
    const course = courseByRef.get(courseKey(row.course));
    const refusal = await courseRefusal(ctx, run, course, row.course);
    if (refusal) outcomes[i] = failed(entityOf(row), refusal);
    else courseOf.set(i, course as ImportCourse);
  }

  // Sections named by the rows, locked before their learners are counted.
  const sectionByKey = await findSections(
    ctx,
    rows.flatMap(({ row }, i) => (courseOf.has(i) && row.section ? [{ courseId: (courseOf.get(i) as ImportCourse).id, name: row.section }] : [])),
    write,
  );
  for (const [i, { row }] of rows.entries()) {
    const course = courseOf.get(i);
    if (course && row.section && !sectionByKey.has(sectionKey(course.id, row.section))) {
      outcomes[i] = failed(entityOf(row), `course ${course.label} has no section ${row.section}`);
    }
  }

  // People: found, or created (with an invitation) when the row gives a name. The name only creates: an existing
  // account keeps its own.
  const named = [...new Set(rows.flatMap(({ row }, i) => (outcomes[i] || !row.name ? [] : [row.email])))];
  const registered = new Set(
    named.length ? (await ctx.db.execute<{ email: string }>(sql`select email from ${users} where email = any(${sql.param(named)}::text[])`)).map((u) => u.email) : [],
  );
  const ensured = await ensureUsers(
    ctx,
    run,
    rows.flatMap(({ line, row }, i) => (outcomes[i] ? [] : [{ line, email: row.email, name: registered.has(row.email) ? null : row.name, locale: null }])),
  );
  const userOf = new Map<number, string | null>();
  for (const [i, { row }] of rows.entries()) {
    if (outcomes[i]) continue;
    const person = ensured.get(row.email);
    if (!person || person.result === "failed") outcomes[i] = failed(entityOf(row), person?.reason ?? "no account has this address");
    else userOf.set(i, person.userId);
  }

  const known = [...userOf.entries()].filter(([, userId]) => userId !== null) as [number, string][];
  const pairs = known.map(([i, userId]) => ({ courseId: (courseOf.get(i) as ImportCourse).id, userId }));
  const live = pairs.length
    ? await ctx.db.execute<LiveEnrollment>(sql`
        select e.id, e.course_id, e.user_id, e.status, e.section_id from ${enrollments} e
        join unnest(${sql.param(pairs.map((p) => p.courseId))}::uuid[], ${sql.param(pairs.map((p) => p.userId))}::uuid[]) as v(course_id, user_id)
          on e.course_id = v.course_id and e.user_id = v.user_id
        where e.status in ${LIVE_STATUSES}`)
    : [];
  const liveOf = new Map(live.map((e) => [`${e.course_id}|${e.user_id}`, e]));
  const staffRows = pairs.length
    ? await ctx.db.execute<{ course_id: string; user_id: string; role: CourseRole; section_ids: string[] }>(sql`
        select cs.course_id, cs.user_id, cs.role,
          coalesce((select array_agg(x.section_id) from ${courseStaffSections} x where x.course_id = cs.course_id and x.user_id = cs.user_id), '{}') as section_ids
        from ${courseStaff} cs
        join unnest(${sql.param(pairs.map((p) => p.courseId))}::uuid[], ${sql.param(pairs.map((p) => p.userId))}::uuid[]) as v(course_id, user_id)
          on cs.course_id = v.course_id and cs.user_id = v.user_id`)
    : [];
  const staffOf = new Map(staffRows.map((s) => [`${s.course_id}|${s.user_id}`, { role: s.role, sectionIds: new Set(s.section_ids) }]));
  const courseIds = [...new Set([...courseOf.values()].map((c) => c.id))];
  const instructors = new Map<string, number>();
  if (rows.some((r) => r.row.role === "teaching-assistant") && courseIds.length) {
    const counts = await ctx.db.execute<{ course_id: string; n: number }>(sql`
      select course_id, count(*)::int as n from ${courseStaff} where course_id = any(${sql.param(courseIds)}::uuid[]) and role = 'instructor' group by course_id`);
    for (const c of counts) instructors.set(c.course_id, c.n);
  }
  const sectionIds = [...new Set([...sectionByKey.values()].map((s) => s.id))];
  const seated = new Map<string, number>();
  if (sectionIds.length) {
    const counts = await ctx.db.execute<{ section_id: string; n: number }>(sql`
      select section_id, count(*)::int as n from ${enrollments} where section_id = any(${sql.param(sectionIds)}::uuid[]) and status in ${SEAT_STATUSES} group by section_id`);
    for (const c of counts) seated.set(c.section_id, c.n);
  }

  // Decisions, in line order: each row sees what the rows before it took (seats, section places, staff).
  const seatsTaken = new Map([...courseOf.values()].map((c) => [c.id, c.seatsTaken]));
  const newEnrollments: { id: string; courseId: string; userId: string; sectionId: string | null }[] = [];
  const sectionMoves: { id: string; courseId: string; userId: string; sectionId: string; from: string | null }[] = [];
  const staffUpserts: { courseId: string; userId: string; role: CourseRole; previousRole: CourseRole | null }[] = [];
  const scopeAdds: { courseId: string; userId: string; sectionId: string }[] = [];
  const takeSectionPlace = (sectionId: string, capacity: number | null): boolean => {
    const n = seated.get(sectionId) ?? 0;
    if (capacity !== null && n >= capacity) return false;
    seated.set(sectionId, n + 1);
    return true;
  };
  for (const [i, { row }] of rows.entries()) {
    if (outcomes[i]) continue;
    const course = courseOf.get(i) as ImportCourse;
    const userId = userOf.get(i) ?? null;
    const section = row.section ? (sectionByKey.get(sectionKey(course.id, row.section)) ?? null) : null;
    const fullSection = () => failed(entityOf(row), `section ${section?.name} is full (${seats(section?.capacity ?? 0)})`);
    const key = `${course.id}|${userId}`;

    if (row.role === "learner") {
      const existing = userId ? liveOf.get(key) : undefined;
      // A learner who holds a seat (held for payment or suspended too) is the same learner the roster lists.
      if (existing && !isSeatStatus(existing.status)) {
        outcomes[i] = failed("enrollment", `${row.email} is ${existing.status} in course ${course.label}`);
      } else if (existing) {
        if (!section || existing.section_id === section.id) outcomes[i] = { result: "unchanged", entity: "enrollment" };
        else if (!takeSectionPlace(section.id, section.capacity)) outcomes[i] = fullSection();
        else {
          if (existing.section_id) seated.set(existing.section_id, (seated.get(existing.section_id) ?? 1) - 1);
          sectionMoves.push({ id: existing.id, courseId: course.id, userId: existing.user_id, sectionId: section.id, from: existing.section_id });
          existing.section_id = section.id;
          outcomes[i] = { result: "updated", entity: "enrollment" };
        }
      } else {
        const taken = seatsTaken.get(course.id) ?? 0;
        if (course.capacity !== null && taken >= course.capacity) outcomes[i] = failed("enrollment", `course ${course.label} is full (${seats(course.capacity)})`);
        else if (section && !takeSectionPlace(section.id, section.capacity)) outcomes[i] = fullSection();
        else {
          seatsTaken.set(course.id, taken + 1);
          const id = ctx.newId();
          newEnrollments.push({ id, courseId: course.id, userId: userId ?? id, sectionId: section?.id ?? null });
          // A later row of the same person and course sees this enrollment.
          if (userId) liveOf.set(key, { id, course_id: course.id, user_id: userId, status: "active", section_id: section?.id ?? null });
          outcomes[i] = { result: "created", entity: "enrollment" };
        }
      }
      continue;
    }

    // Staff: an instructor or a teaching assistant (grader), and the section they are scoped to.
    const role = courseRoleOf(row.role);
    const current = userId ? staffOf.get(key) : undefined;
    if (current && current.role === "instructor" && role === "grader" && (instructors.get(course.id) ?? 0) <= 1) {
      outcomes[i] = failed("staff", `course ${course.label} keeps at least one instructor`);
      continue;
    }
    let changed = false;
    if (!current || current.role !== role) {
      staffUpserts.push({ courseId: course.id, userId: userId ?? "", role, previousRole: current?.role ?? null });
      if (current?.role === "instructor") instructors.set(course.id, (instructors.get(course.id) ?? 1) - 1);
      if (role === "instructor") instructors.set(course.id, (instructors.get(course.id) ?? 0) + 1);
      changed = true;
    }
    const scope = current?.sectionIds ?? new Set<string>();
    if (section && !scope.has(section.id)) {
      scopeAdds.push({ courseId: course.id, userId: userId ?? "", sectionId: section.id });
      scope.add(section.id);
      changed = true;
    }
    if (userId) staffOf.set(key, { role, sectionIds: scope });
    outcomes[i] = current ? { result: changed ? "updated" : "unchanged", entity: "staff" } : { result: "created", entity: "staff" };
  }

  if (write) await writeChanges(ctx, run, { newEnrollments, sectionMoves, staffUpserts, scopeAdds });
  return outcomes.map((o) => o ?? failed("enrollment", "the row was not applied"));
}

async function writeChanges(
  ctx: DomainContext,
  run: ImportRun,
  c: {
    newEnrollments: { id: string; courseId: string; userId: string; sectionId: string | null }[];
    sectionMoves: { id: string; courseId: string; userId: string; sectionId: string; from: string | null }[];
    staffUpserts: { courseId: string; userId: string; role: CourseRole; previousRole: CourseRole | null }[];
    scopeAdds: { courseId: string; userId: string; sectionId: string }[];
  },
): Promise<void> {
  const now = ctx.now().toISOString();
  const events: BatchEvent<EventType>[] = [];
  const audits: AuditEntry[] = [];
  if (c.newEnrollments.length) {
    const e = c.newEnrollments;
    const perCourse = new Map<string, number>();
    for (const x of e) perCourse.set(x.courseId, (perCourse.get(x.courseId) ?? 0) + 1);
    // An imported learner of a course that asks for payment first holds the seat as pending-payment, like any other.
    const payFirst = new Set(
      (await ctx.db.execute<{ id: string }>(sql`select c.id from unnest(${sql.param([...perCourse.keys()])}::uuid[]) as c(id) where ${paymentFirstSql(sql`c.id`)}`)).map((r) => r.id),
    );
    const dueAt = paymentDueAt(ctx, ctx.now()).toISOString();
    // The courses are locked and no live enrollment of these people existed, so every row is inserted.
    await ctx.db.execute(sql`
      insert into ${enrollments} (id, course_id, user_id, status, source, section_id, enrolled_at, payment_due_at, created_at, updated_at)
      select v.id, v.course_id, v.user_id, v.status, 'import', v.section_id,
        case when v.status = 'active' then ${now}::timestamptz end, case when v.status = 'pending-payment' then ${dueAt}::timestamptz end, ${now}::timestamptz, ${now}::timestamptz
      from unnest(${sql.param(e.map((x) => x.id))}::uuid[], ${sql.param(e.map((x) => x.courseId))}::uuid[], ${sql.param(e.map((x) => x.userId))}::uuid[],
        ${sql.param(e.map((x) => x.sectionId))}::uuid[], ${sql.param(e.map((x) => (payFirst.has(x.courseId) ? "pending-payment" : "active")))}::text[]) as v(id, course_id, user_id, section_id, status)`);
    await ctx.db.execute(sql`
      update ${courses} set seats_taken = seats_taken + v.n
      from unnest(${sql.param([...perCourse.keys()])}::uuid[], ${sql.param([...perCourse.values()])}::int[]) as v(id, n)
      where ${courses}.id = v.id`);
    for (const x of e) {
      const ref = { enrollmentId: x.id, courseId: x.courseId, userId: x.userId };
      events.push(
        payFirst.has(x.courseId)
          ? { type: "enrollment.pending-payment", aggregateType: "enrollment", aggregateId: x.id, courseId: x.courseId, data: { ...ref, source: "import", paymentDueAt: dueAt } }
          : { type: "enrollment.created", aggregateType: "enrollment", aggregateId: x.id, courseId: x.courseId, data: { ...ref, source: "import" } },
      );
    }
  }
  if (c.sectionMoves.length) {
    await ctx.db.execute(sql`
      update ${enrollments} set section_id = v.section_id, updated_at = ${now}::timestamptz
      from unnest(${sql.param(c.sectionMoves.map((m) => m.id))}::uuid[], ${sql.param(c.sectionMoves.map((m) => m.sectionId))}::uuid[]) as v(id, section_id)
      where ${enrollments}.id = v.id`);
    for (const m of c.sectionMoves) {
      const ref = { enrollmentId: m.id, courseId: m.courseId, userId: m.userId };
      events.push({ type: "enrollment.section-changed", aggregateType: "enrollment", aggregateId: m.id, courseId: m.courseId, data: { ...ref, sectionId: m.sectionId, previousSectionId: m.from } });
    }
  }
  if (c.staffUpserts.length) {
    const s = c.staffUpserts;
    await ctx.db.execute(sql`
      insert into ${courseStaff} (course_id, user_id, role, added_by_user_id, created_at)
      select v.course_id, v.user_id, v.role, ${run.importerUserId}::uuid, ${now}::timestamptz
      from unnest(${sql.param(s.map((x) => x.courseId))}::uuid[], ${sql.param(s.map((x) => x.userId))}::uuid[], ${sql.param(s.map((x) => x.role))}::text[]) as v(course_id, user_id, role)
      on conflict (course_id, user_id) do update set role = excluded.role`);
    for (const x of s) {
      audits.push({ action: "course.staff-added", targetType: "course", targetId: x.courseId, details: { userId: x.userId, role: x.role, previousRole: x.previousRole, importId: run.importId } });
      events.push({ type: "course.staff-added", aggregateType: "course", aggregateId: x.courseId, courseId: x.courseId, data: { courseId: x.courseId, userId: x.userId, role: x.role } });
    }
  }
  if (c.scopeAdds.length) {
    const s = c.scopeAdds;
    await ctx.db.execute(sql`
      insert into ${courseStaffSections} (course_id, user_id, section_id, created_at)
      select v.course_id, v.user_id, v.section_id, ${now}::timestamptz
      from unnest(${sql.param(s.map((x) => x.courseId))}::uuid[], ${sql.param(s.map((x) => x.userId))}::uuid[], ${sql.param(s.map((x) => x.sectionId))}::uuid[]) as v(course_id, user_id, section_id)
      on conflict do nothing`);
    for (const x of s) {
      audits.push({ action: "course.staff-sections-changed", targetType: "course", targetId: x.courseId, details: { userId: x.userId, addedSectionId: x.sectionId, importId: run.importId } });
    }
  }
  await recordEvents(ctx, events);
  await recordAudits(ctx, audits);
}

/** The `enrollments` kind: course, email, role, section, name (the columns of roster.csv, in its order). */
export const enrollmentsPart: RowPart<EnrollmentRow> = {
  file: "enrollments",
  entity: "enrollment",
  requiredColumns: ["course", "email"],
  optionalColumns: ["role", "section", "name"],
  schema: enrollmentRowSchema,
  // A learner once per course; a staff member once per course and section (one row per section they are scoped to).
  key: (row) => (row.role === "learner" ? `${courseKey(row.course)}|${row.email}` : `${courseKey(row.course)}|${row.email}|staff|${(row.section ?? "").toLowerCase()}`),
  apply: applyEnrollments,
};
