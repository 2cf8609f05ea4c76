import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImportRun, RowOutcome, StagedRow } from "../../../domain/imports/import-kind.js";
import { type EnrollmentRow, enrollmentsPart } from "../../../domain/imports/kinds/enrollments.js";
import { type SectionRow, sectionsPart } from "../../../domain/imports/kinds/sections.js";
import { rosterCsv } from "../../../domain/sections/roster-export.js";
import { parse } from "csv-parse/sync";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";

let db: TestDatabase;
let ctx: DomainContext;
let inTx: ReturnType<typeof inTransactionOf>;
let importerId: string;

beforeAll(async () => {
  ({ db, ctx } = await openDomainDatabase());
  inTx = inTransactionOf(db, ctx);
  importerId = await seedUser(`importer-${tag()}@example.test`);
});
afterAll(async () => {
  await db?.drop();
});

const runOf = (over: Partial<ImportRun> = {}): ImportRun => ({
  importId: ctx.newId(),
  dryRun: false,
  importerUserId: importerId,
  courseId: null,
  appUrl: "https://app.example",
  invitationTtlHours: 72,
  ...over,
});
const tag = () => ctx.newId().slice(-8);

async function seedCourse(code: string | null, capacity: number | null = null): Promise<string> {
  const id = ctx.newId();
  await db.sql`insert into courses (id, title, code, status, capacity) values (${id}, 'Course', ${code}, 'published', ${capacity})`;
  return id;
}
async function seedUser(email: string): Promise<string> {
  const id = ctx.newId();
  await db.sql`insert into users (id, email, display_name) values (${id}, ${email}, 'Existing')`;
  return id;
}

/** Parses records as the pipeline does (every cell a string), then applies them as one batch. */
function parsed<Row>(part: { schema: { parse(v: unknown): Row } }, records: Record<string, string>[]): StagedRow<Row>[] {
  return records.map((r, i) => ({ line: i + 2, row: part.schema.parse(r) }));
}
const applyEnrollments = (run: ImportRun, records: Record<string, string>[]) => inTx((tx) => enrollmentsPart.apply(tx, run, parsed<EnrollmentRow>(enrollmentsPart, records)));
const applySections = (run: ImportRun, records: Record<string, string>[]) => inTx((tx) => sectionsPart.apply(tx, run, parsed<SectionRow>(sectionsPart, records)));
const results = (outcomes: RowOutcome[]) => outcomes.map((o) => ("reason" in o ? `${o.result}: ${o.reason}` : `${o.result} ${o.entity}`));

const snapshot = async (courseId: string) => ({
  enrollments: await db.sql`select user_id, status, source, section_id from enrollments where course_id = ${courseId} order by user_id`,
  staff: await db.sql`select user_id, role from course_staff where course_id = ${courseId} order by user_id`,
  scopes: await db.sql`select user_id, section_id from course_staff_sections where course_id = ${courseId} order by user_id, section_id`,
  sections: await db.sql`select name, capacity, version from sections where course_id = ${courseId} order by name`,
  seats: (await db.sql<{ seats_taken: number }[]>`select seats_taken from courses where id = ${courseId}`)[0]?.seats_taken,
});

describe("the sections kind", () => {
  it("creates, updates capacity and leaves unchanged; a dry run writes nothing; a second apply changes nothing", async () => {
    const code = `SEC-${tag()}`;
    const courseId = await seedCourse(code);
    const rows = [
      { course: code, name: "A", capacity: "2" },
      { course: code.toLowerCase(), name: "B", capacity: "" },
      { course: "NOPE-1", name: "C", capacity: "" },
    ];
    const dry = await applySections(runOf({ dryRun: true }), rows);
    expect(results(dry)).toEqual(["created section", "created section", "failed: course NOPE-1 not found"]);
    expect((await snapshot(courseId)).sections).toEqual([]);

    expect(results(await applySections(runOf(), rows))).toEqual(["created section", "created section", "failed: course NOPE-1 not found"]);
    const after = await snapshot(courseId);
    expect(after.sections).toEqual([
      { name: "A", capacity: 2, version: 1 },
      { name: "B", capacity: null, version: 1 },
    ]);
    expect(results(await applySections(runOf(), rows.slice(0, 2)))).toEqual(["unchanged section", "unchanged section"]);
    expect(results(await applySections(runOf(), [{ course: courseId, name: "a", capacity: "3" }]))).toEqual(["updated section"]);
    expect((await snapshot(courseId)).sections[0]).toEqual({ name: "A", capacity: 3, version: 2 });
    expect(sectionsPart.schema.safeParse({ course: code, name: "A", capacity: "0" }).success).toBe(false);
    expect(sectionsPart.schema.safeParse({ course: code, name: "A\u0000", capacity: "" }).success).toBe(false);
  });

  it("refuses another course's rows in a course staff's import", async () => {
    const mine = await seedCourse(`MINE-${tag()}`);
    const otherCode = `OTHER-${tag()}`;
    await seedCourse(otherCode);
    const [row] = await db.sql<{ code: string }[]>`select code from courses where id = ${mine}`;
    const outcomes = await applySections(runOf({ courseId: mine }), [{ course: otherCode, name: "A", capacity: "" }]);
    expect(results(outcomes)).toEqual([`failed: only course ${row?.code} may be imported here`]);
  });
});

describe("the enrollments kind", () => {
  it("enrolls learners and staff, counts seats, honours section capacity, and a second apply changes nothing", async () => {
    const code = `ENR-${tag()}`;
    const courseId = await seedCourse(code, 3);
    await applySections(runOf(), [
      { course: code, name: "A", capacity: "1" },
      { course: code, name: "B", capacity: "" },
    ]);
    const [ann, bob, cat, dan, tia] = ["ann", "bob", "cat", "dan", "tia"].map((n) => `${n}-${tag()}@example.test`) as [string, string, string, string, string];
    for (const e of [ann, bob, cat, tia]) await seedUser(e);
    const rows = [
      { course: code, email: ann, role: "", section: "A", name: "" },
      { course: code, email: bob, role: "learner", section: "a", name: "" },
      { course: code, email: cat, role: "student", section: "", name: "" },
      { course: code, email: dan, role: "learner", section: "B", name: "" },
      { course: code, email: tia, role: "ta", section: "B", name: "" },
      { course: code, email: `nobody-${tag()}@example.test`, role: "instructor", section: "", name: "" },
      { course: code, email: bob, role: "teaching-assistant", section: "Z", name: "" },
    ].map((r) => ({ ...r }));
    // "student" is no role of this kind: the row schema refuses it, as the pipeline would report.
    expect(enrollmentsPart.schema.safeParse(rows[2]).success).toBe(false);
    rows[2] = { course: code, email: cat, role: "learner", section: "B", name: "" };

    const dry = await applyEnrollments(runOf({ dryRun: true }), rows);
    const expected = [
      "created enrollment",
      "failed: section A is full (1 seat)",
      "created enrollment",
      "failed: no account has this address; give a name to create one",
      "created staff",
      "failed: no account has this address; give a name to create one",
      `failed: course ${code} has no section Z`,
    ];
    expect(results(dry)).toEqual(expected);
    expect(await snapshot(courseId)).toMatchObject({ enrollments: [], staff: [], scopes: [], seats: 0 });

    expect(results(await applyEnrollments(runOf(), rows))).toEqual(expected);
    const after = await snapshot(courseId);
    expect(after.seats).toBe(2);
    expect(after.enrollments).toHaveLength(2);
    expect(after.enrollments.every((e) => e.status === "active" && e.source === "import")).toBe(true);
    expect(after.staff).toEqual([expect.objectContaining({ role: "grader" })]);
    expect(after.scopes).toHaveLength(1);
    const events = await db.sql`select type, data->>'source' as source from outbox where course_id = ${courseId} order by type`;
    expect(events).toEqual([
      { type: "course.staff-added", source: null },
      { type: "enrollment.created", source: "import" },
      { type: "enrollment.created", source: "import" },
    ]);

    // Again: nothing changes, nothing is recorded.
    expect(results(await applyEnrollments(runOf(), rows))).toEqual(["unchanged enrollment", expected[1], "unchanged enrollment", expected[3], "unchanged staff", expected[5], expected[6]]);
    expect(await snapshot(courseId)).toEqual(after);
    expect(await db.sql`select 1 from outbox where course_id = ${courseId}`).toHaveLength(3);

    // A move to another section is an update; a new person with a name is created and enrolled; the course fills.
    const moved = await applyEnrollments(runOf(), [
      { course: code, email: cat, role: "learner", section: "A", name: "" },
      { course: code, email: ann, role: "learner", section: "B", name: "" },
      { course: code, email: dan, role: "learner", section: "", name: "Dan New" },
      { course: code, email: `eve-${tag()}@example.test`, role: "learner", section: "", name: "Eve New" },
    ]);
    expect(results(moved)).toEqual(["failed: section A is full (1 seat)", "updated enrollment", "created enrollment", `failed: course ${code} is full (3 seats)`]);
    const [dan1] = await db.sql`select u.display_name, e.source from enrollments e join users u on u.id = e.user_id where e.course_id = ${courseId} and u.email = ${dan}`;
    expect(dan1).toEqual({ display_name: "Dan New", source: "import" });
    expect((await snapshot(courseId)).seats).toBe(3);
  });

  it("keeps a course's last instructor and refuses another course's rows in a staff import", async () => {
    const code = `INS-${tag()}`;
    const courseId = await seedCourse(code);
    const teacher = `teacher-${tag()}@example.test`;
    const teacherId = await seedUser(teacher);
    await db.sql`insert into course_staff (course_id, user_id, role) values (${courseId}, ${teacherId}, 'instructor')`;
    expect(results(await applyEnrollments(runOf(), [{ course: code, email: teacher, role: "grader", section: "", name: "" }]))).toEqual([`failed: course ${code} keeps at least one instructor`]);
    expect(results(await applyEnrollments(runOf(), [{ course: code, email: teacher, role: "instructor", section: "", name: "'=Renamed" }]))).toEqual(["unchanged staff"]);
    // The name column only names people it creates.
    expect((await db.sql`select display_name from users where id = ${teacherId}`)[0]).toEqual({ display_name: "Existing" });
    const other = await seedCourse(`OTH-${tag()}`);
    const outcomes = await applyEnrollments(runOf({ courseId: other }), [{ course: code, email: teacher, role: "", section: "", name: "" }]);
    expect(results(outcomes)[0]).toMatch(/^failed: only course OTH-.* may be imported here$/);
    expect(results(await applyEnrollments(runOf(), [{ course: ctx.newId(), email: teacher, role: "", section: "", name: "" }]))[0]).toMatch(/^failed: course .* not found$/);
  });

  it("refuses role values a plain object would inherit", () => {
    for (const role of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      expect(enrollmentsPart.schema.safeParse({ course: "C-1", email: "a@example.test", role }).success).toBe(false);
    }
  });

  it("reads roster.csv's neutralised cells back as the values they were (code, address, section, name)", async () => {
    const code = `-X${tag()}`;
    const courseId = await seedCourse(code);
    await applySections(runOf(), [{ course: code, name: "-A", capacity: "" }]);
    const email = `-ann-${tag()}@example.test`;
    const userId = await seedUser(email);
    await db.sql`update users set display_name = '@Ann' where id = ${userId}`;
    expect(results(await applyEnrollments(runOf(), [{ course: code, email, role: "", section: "-A", name: "" }]))).toEqual(["created enrollment"]);

    const records = parse((await inTx((tx) => rosterCsv(tx.db, courseId))) as string, { columns: true }) as Record<string, string>[];
    expect(records).toEqual([{ course: `'${code}`, email: `'${email}`, name: "'@Ann", role: "learner", section: "'-A" }]);
    const people = await db.sql`select count(*)::int as n from users`;
    expect(results(await applyEnrollments(runOf(), records))).toEqual(["unchanged enrollment"]);
    expect(await db.sql`select count(*)::int as n from users`).toEqual(people);
    // A quote before anything the export would not have neutralised stays part of the value.
    expect(enrollmentsPart.schema.parse({ course: "'CS-1", email: "a@example.test", name: "'Ann" })).toMatchObject({ course: "'CS-1", name: "'Ann" });
  });
});
