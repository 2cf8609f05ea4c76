import { sql } from "drizzle-orm";
import { z } from "zod";
import { enrollments, importRows, sections, LIVE_STATUSES } from "../../db/schema/index.js";
import type { DomainContext } from "../../shared/context.js";
import type { ImportRun, RowOutcome, RowPart, StagedRow } from "../import-kind.js";
import { type EnrollmentRow, enrollmentsPart } from "../kinds/enrollments.js";
import type { ClassRow } from "./classes.js";
import { columnsOf, guid, refusedForCourseStaff, skipDeleted, status, text } from "./columns.js";
import { references } from "./references.js";
import { sourcedIdsOf } from "./sources.js";
import { addressesOf } from "./users.js";

export interface OneRosterEnrollmentRow {
  sourcedId: string;
  status: "" | "active" | "tobedeleted";
  classSourcedId: string;
  schoolSourcedId: string;
  userSourcedId: string;
  role: string;
}

const schema: z.ZodType<OneRosterEnrollmentRow> = z
  .object({
    sourcedid: guid("sourcedId"),
    status,
    classsourcedid: guid("classSourcedId"),
    schoolsourcedid: guid("schoolSourcedId"),
    usersourcedid: guid("userSourcedId"),
    role: text("role", 64),
  })
  .transform((r) => ({
    sourcedId: r.sourcedid,
    status: r.status,
    classSourcedId: r.classsourcedid,
    schoolSourcedId: r.schoolsourcedid,
    userSourcedId: r.usersourcedid,
    role: r.role,
  }));

/**
 * OneRoster 1.2 enrollment roles → Ringlet course roles. The 1.2 vocabulary is administrator | proctor | student |
 * teacher: it has no teaching assistant, so one is taken as the extension value `ext:teaching-assistant` (1.2
 * vocabularies are extended with `ext:` values), and, as many systems send it, `aide` (a role of the users'
 * vocabulary, in no version of the enrollments one). A proctor or an administrator of a class has no course role in
 * Ringlet (a teaching assistant grades; a proctor only supervises): their rows are skipped, with the reason. A Map:
 * a plain object would answer `constructor` with what it inherits.
 */
const roleOf = new Map<string, EnrollmentRow["role"]>([
  ["student", "learner"],
  ["teacher", "instructor"],
  ["ext:teaching-assistant", "teaching-assistant"],
  ["aide", "teaching-assistant"],
]);

const alreadyThrough = (userSourcedId: string, classSourcedId: string) => `user ${userSourcedId} is in this course through class ${classSourcedId} already`;

// As the enrollments kind counts them: learners' rows are enrollments, instructors' and assistants' staff.
const failed = (reason: string, entity = "enrollment"): RowOutcome => ({ result: "failed", entity, reason });

/**
 * enrollments.csv (OneRoster 1.2 CSV Binding, section 3) → the `enrollments` kind's own apply (one enrollment
 * path): each row's class becomes its course and section, its user that account's address. A learner is placed in
 * the class's section; a teacher is the course's instructor (of the whole course, once however many of its classes
 * they teach); a teaching assistant is scoped to the class's section. A learner in two classes of one course
 * keeps the first (Ringlet's learner is in one section), on later imports too: the other row is skipped, naming it.
 */
export const onerosterEnrollmentsPart: RowPart<OneRosterEnrollmentRow> = {
  file: "enrollments.csv",
  entity: "enrollment",
  requiredColumns: columnsOf(["sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"]),
  optionalColumns: columnsOf(["status", "dateLastModified", "primary", "beginDate", "endDate"]),
  schema,
  key: (row) => row.sourcedId,
  async apply(ctx, run, rows) {
    const refused = refusedForCourseStaff(run, "enrollment", rows);
    if (refused) return refused;
    const all = rows.map((r) => r.row);
    const schools = await references(ctx, run, { entity: "org", file: "orgs.csv", label: "school" }, all.map((r) => r.schoolSourcedId));
    const classes = await references<ClassRow>(ctx, run, { entity: "section", file: "classes.csv", label: "class" }, all.map((r) => r.classSourcedId));
    const people = await references(ctx, run, { entity: "user", file: "users.csv", label: "user" }, all.map((r) => r.userSourcedId));

    const sectionIds = all.flatMap((r) => {
      const ref = classes.resolve(r.classSourcedId);
      return "linked" in ref ? [ref.linked.entityId] : [];
    });
    const sectionOf = new Map(
      sectionIds.length === 0
        ? []
        : (
            await ctx.db
              .select({ id: sections.id, courseId: sections.courseId, name: sections.name })
              .from(sections)
              .where(sql`${sections.id} = any(${sql.param(sectionIds)}::uuid[])`)
          ).map((s) => [s.id, s]),
    );
    const userIds = all.flatMap((r) => {
      const ref = people.resolve(r.userSourcedId);
      return "linked" in ref ? [ref.linked.entityId] : [];
    });
    const addressOf = await addressesOf(ctx.db, userIds);

    // A dry run's classes that the bundle would create name their course in their staged row.
    const stagedCourse = (classSourcedId: string) => classes.staged(classSourcedId)?.data.courseSourcedId ?? "";
    const courseRefs = await references(
      ctx,
      run,
      { entity: "course", file: "courses.csv", label: "course" },
      all.flatMap((r) => ("staged" in classes.resolve(r.classSourcedId) ? [stagedCourse(r.classSourcedId)] : [])),
    );
    const courseOf = (classSourcedId: string, cls: { linked: { entityId: string } } | { staged: true }): string => {
      if ("linked" in cls) return sectionOf.get(cls.linked.entityId)?.courseId ?? "";
      const course = courseRefs.resolve(stagedCourse(classSourcedId));
      return "linked" in course ? course.linked.entityId : `staged:${stagedCourse(classSourcedId)}`;
    };

    const outcomes: (RowOutcome | null)[] = [];
    const forward: { at: number; row: StagedRow<EnrollmentRow>; learner?: Learner }[] = [];
    // (course, user) → the class that placed them in this batch
    const placed = new Map<string, string>();
    rows.forEach(({ line, row }, at) => {
      const decide = (outcome: RowOutcome | null) => void outcomes.push(outcome);
      if (row.status === "tobedeleted") return decide(skipDeleted("enrollment"));
      const role = roleOf.get(row.role);
      if (!role) return decide({ result: "skipped", entity: "enrollment", reason: `role ${row.role} has no Ringlet course role` });
      const entity = role === "learner" ? "enrollment" : "staff";
      const school = schools.resolve(row.schoolSourcedId);
      if ("missing" in school) return decide(failed(school.missing, entity));
      const cls = classes.resolve(row.classSourcedId);
      if ("missing" in cls) return decide(failed(cls.missing, entity));
      const person = people.resolve(row.userSourcedId);
      if ("missing" in person) return decide(failed(person.missing, entity));
      // As the enrollments kind keys its rows: a learner once per course, an instructor once, an assistant once per class.
      const staffScope = role === "learner" ? "" : role === "instructor" ? "|staff" : `|staff|${row.classSourcedId}`;
      const key = `${courseOf(row.classSourcedId, cls)}|${row.userSourcedId}${staffScope}`;
      const first = placed.get(key);
      if (first !== undefined) {
        return decide({ result: "skipped", entity, reason: alreadyThrough(row.userSourcedId, first) });
      }
      placed.set(key, row.classSourcedId);
      // A dry run's class or user that the bundle would create has no enrollment yet.
      if ("staged" in cls || "staged" in person) return decide({ result: "created", entity });
      const section = sectionOf.get(cls.linked.entityId);
      const email = addressOf.get(person.linked.entityId);
      if (!section || !email) return decide(failed(`class ${row.classSourcedId} or user ${row.userSourcedId} is gone from Ringlet`, entity));
      forward.push({
        at,
        row: { line, row: { course: section.courseId, email, role, section: role === "instructor" ? null : section.name, name: null } },
        ...(role === "learner"
          ? { learner: { courseId: section.courseId, userId: person.linked.entityId, sectionId: section.id, userSourcedId: row.userSourcedId } }
          : {}),
      });
      decide(null);
    });
    const stays = await placedThroughListedClass(ctx, run, forward.flatMap((f) => (f.learner ? [f.learner] : [])));
    const go = forward.filter((f) => {
      const through = f.learner ? stays.get(f.learner) : undefined;
      if (through === undefined) return true;
      outcomes[f.at] = { result: "skipped", entity: "enrollment", reason: alreadyThrough(f.learner?.userSourcedId ?? "", through) };
      return false;
    });
    if (go.length > 0) {
      const applied = await enrollmentsPart.apply(ctx, run, go.map((f) => f.row));
      go.forEach((f, i) => (outcomes[f.at] = applied[i] ?? failed("the enrollment was not applied")));
    }
    return outcomes.map((o) => o ?? failed("the enrollment was not applied"));
  },
};

interface Learner {
  courseId: string;
  userId: string;
  sectionId: string;
  userSourcedId: string;
}

/**
 * Learners already placed in another section of the course whose class this bundle also lists them in: they stay
 * there (a learner's rows for two classes of one course in different batches would otherwise move them back and
 * forth at every import). A learner whose old class the bundle no longer lists moves to the new one.
 */
async function placedThroughListedClass(ctx: DomainContext, run: ImportRun, learners: readonly Learner[]): Promise<Map<Learner, string>> {
  const out = new Map<Learner, string>();
  if (learners.length === 0) return out;
  const placed = await ctx.db.execute<{ course_id: string; user_id: string; section_id: string }>(sql`
    select e.course_id, e.user_id, e.section_id
    from unnest(${sql.param(learners.map((l) => l.courseId))}::uuid[], ${sql.param(learners.map((l) => l.userId))}::uuid[]) as v(course_id, user_id)
    join ${enrollments} e on e.course_id = v.course_id and e.user_id = v.user_id
    where e.status in ${LIVE_STATUSES} and e.section_id is not null`);
  const sectionOf = new Map(placed.map((p) => [`${p.course_id}|${p.user_id}`, p.section_id]));
  const elsewhere = learners.flatMap((l) => {
    const current = sectionOf.get(`${l.courseId}|${l.userId}`);
    return current !== undefined && current !== l.sectionId ? [{ learner: l, sectionId: current }] : [];
  });
  if (elsewhere.length === 0) return out;
  const classOf = await sourcedIdsOf(ctx.db, "section", elsewhere.map((e) => e.sectionId));
  const asked = elsewhere.flatMap((e) => {
    const cls = classOf.get(e.sectionId);
    return cls === undefined ? [] : [{ learner: e.learner, cls }];
  });
  if (asked.length === 0) return out;
  const listed = await ctx.db.execute<{ user_sourced_id: string; class_sourced_id: string }>(sql`
    select distinct v.user_sourced_id, v.class_sourced_id
    from unnest(${sql.param(asked.map((a) => a.learner.userSourcedId))}::text[], ${sql.param(asked.map((a) => a.cls))}::text[]) as v(user_sourced_id, class_sourced_id)
    join ${importRows} r on r.data->>'userSourcedId' = v.user_sourced_id and r.data->>'classSourcedId' = v.class_sourced_id
    where r.import_id = ${run.importId} and r.file = 'enrollments.csv' and r.key is not null
      and r.data->>'role' = 'student' and r.data->>'status' <> 'tobedeleted'`);
  const isListed = new Set(listed.map((l) => `${l.user_sourced_id}|${l.class_sourced_id}`));
  for (const a of asked) if (isListed.has(`${a.learner.userSourcedId}|${a.cls}`)) out.set(a.learner, a.cls);
  return out;
}
