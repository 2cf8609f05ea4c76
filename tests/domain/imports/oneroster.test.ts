import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { onerosterParts } from "../../../domain/imports/oneroster/index.js";
import { erasePersonalData } from "../../../domain/privacy/erasure.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase, testErasureKeys } from "../../support/domain-database.js";
import { fixtureFiles, runBundle, tally, tallyByEntity } from "./oneroster-fixture.js";

let db: TestDatabase;
let ctx: DomainContext;
let adminId: string;

beforeAll(async () => {
  ({ db, ctx } = await openDomainDatabase());
  adminId = uuidv7();
  await db.sql`insert into users (id, email, display_name, is_admin) values (${adminId}, 'registrar@riverside.example', 'Registrar', true)`;
});
afterAll(() => db?.drop());

const run = (files: Record<string, string>, dryRun: boolean, batchSize?: number) =>
  runBundle(db, ctx, onerosterParts, files, { importerUserId: adminId, dryRun, ...(batchSize ? { batchSize } : {}) });

const counts = async () => {
  const [row] = await db.sql<{ courses: number; sections: number; users: number; sources: number }[]>`
    select (select count(*)::int from courses) as courses, (select count(*)::int from sections) as sections,
      (select count(*)::int from users) as users, (select count(*)::int from roster_sources) as sources`;
  return row;
};

// A teacher of two classes of one course is its instructor once; the proctor has no course role; usr-s-5 was skipped.
const freshEnrollments = { "staff created": 2, "staff skipped": 1, "enrollment skipped": 1, "enrollment created": 5, "enrollment failed": 1 };

describe("the oneroster kind's mapping", () => {
  it("says in a dry run that a fresh bundle creates everything, down the chain of files, and writes nothing", async () => {
    const outcomes = await run(fixtureFiles(), true);
    expect(tally(outcomes["orgs.csv"])).toEqual({ created: 2 });
    expect(tally(outcomes["academicSessions.csv"])).toEqual({ created: 2 });
    expect(tally(outcomes["courses.csv"])).toEqual({ created: 2 });
    expect(tally(outcomes["classes.csv"])).toEqual({ created: 3 });
    expect(tally(outcomes["users.csv"])).toEqual({ created: 7, skipped: 1, failed: 1 });
    expect(outcomes["users.csv"]?.[7]).toEqual({ result: "skipped", entity: "user", reason: "user usr-s-5 is not enabled (enabledUser is false)" });
    expect(outcomes["users.csv"]?.[8]).toEqual({ result: "failed", entity: "user", reason: "user usr-s-6 has no email" });
    expect(tallyByEntity(outcomes["enrollments.csv"])).toEqual(freshEnrollments);
    expect(await counts()).toEqual({ courses: 0, sections: 0, users: 1, sources: 0 });
  });

  it("imports the bundle: courses as drafts with their code, classes as sections, users with invitations, every sourcedId kept", async () => {
    const outcomes = await run(fixtureFiles(), false, 2);
    expect(tally(outcomes["courses.csv"])).toEqual({ created: 2 });
    expect(tally(outcomes["classes.csv"])).toEqual({ created: 3 });
    expect(tally(outcomes["users.csv"])).toEqual({ created: 7, skipped: 1, failed: 1 });
    expect(tallyByEntity(outcomes["enrollments.csv"])).toEqual(freshEnrollments);
    expect(outcomes["enrollments.csv"]?.slice(1, 4)).toEqual([
      { result: "skipped", entity: "staff", reason: "user usr-t-1 is in this course through class cls-bio-1a already" },
      { result: "created", entity: "staff" },
      { result: "skipped", entity: "enrollment", reason: "role proctor has no Ringlet course role" },
    ]);
    expect(outcomes["enrollments.csv"]?.[9]).toEqual({ result: "failed", entity: "enrollment", reason: "user usr-s-5 was not imported (users.csv line 9)" });
    expect(await counts()).toEqual({ courses: 2, sections: 3, users: 8, sources: 2 + 2 + 2 + 3 + 7 });
    const roster = await db.sql`
      select u.email, coalesce(s.name, '') as section from enrollments e join users u on u.id = e.user_id left join sections s on s.id = e.section_id
      where e.status = 'active' order by u.email, section`;
    expect(roster.map((r) => `${r.email} ${r.section}`)).toEqual([
      "anguyen@students.riverside.example Algebra II - Period 2",
      "anguyen@students.riverside.example Biology I - Period 1",
      "bokafor@students.riverside.example Biology I - Period 1",
      "cmueller@students.riverside.example Biology I - Period 3",
      "dsmith@students.riverside.example Algebra II - Period 2",
    ]);
    const staff = await db.sql`
      select u.email, cs.role, coalesce((select array_agg(s.name) from course_staff_sections x join sections s on s.id = x.section_id
        where x.course_id = cs.course_id and x.user_id = cs.user_id), '{}') as sections
      from course_staff cs join users u on u.id = cs.user_id join courses c on c.id = cs.course_id where c.code = 'BIO-101' order by u.email`;
    expect(staff).toEqual([
      { email: "mlopez@riverside.example", role: "instructor", sections: [] },
      { email: "registrar@riverside.example", role: "instructor", sections: [] },
      { email: "spatel@riverside.example", role: "grader", sections: ["Biology I - Period 1"] },
    ]);
    const courses = await db.sql`select title, code, status, self_enrollment from courses order by title`;
    expect(courses).toEqual([
      { title: "Algebra II", code: null, status: "draft", self_enrollment: false },
      { title: "Biology I", code: "BIO-101", status: "draft", self_enrollment: false },
    ]);
    const sections = await db.sql`select c.code, s.name from sections s join courses c on c.id = s.course_id order by s.name`;
    expect(sections.map((s) => s.name)).toEqual(["Algebra II - Period 2", "Biology I - Period 1", "Biology I - Period 3"]);
    const [teacher] = await db.sql`select display_name, password_hash from users where email = 'mlopez@riverside.example'`;
    expect(teacher).toEqual({ display_name: "María López", password_hash: null });
  });

  it("changes nothing when the same bundle comes again", async () => {
    const before = await counts();
    const outcomes = await run(fixtureFiles(), false);
    for (const file of ["orgs.csv", "academicSessions.csv", "courses.csv", "classes.csv"]) expect(tally(outcomes[file])).toEqual({ unchanged: outcomes[file]?.length });
    expect(tally(outcomes["users.csv"])).toEqual({ unchanged: 7, skipped: 1, failed: 1 });
    expect(tallyByEntity(outcomes["enrollments.csv"])).toEqual({ "staff unchanged": 2, "staff skipped": 1, "enrollment skipped": 1, "enrollment unchanged": 5, "enrollment failed": 1 });
    expect(await counts()).toEqual(before);
  });

  it("follows sourcedIds through a changed bundle: a renamed class and course, a new user", async () => {
    const [section] = await db.sql<{ id: string }[]>`select id from sections where name = 'Biology I - Period 3'`;
    const files = fixtureFiles({
      "classes.csv": (t) => t.replace("Biology I - Period 3", "Biology I - Period 4"),
      "courses.csv": (t) => t.replace("Algebra II", "Algebra 2"),
      "users.csv": (t) => `${t}usr-s-7,,,true,gho,{LDAP:gho},Gia,Ho,,S4007,gho@students.riverside.example,,,,10,,,,,,,org-school-1,\n`,
      "enrollments.csv": (t) => `${t}enr-11,,,cls-bio-1b,org-school-1,usr-s-7,student,,,\n`,
    });
    const dry = await run(files, true);
    expect(dry["enrollments.csv"]?.at(-1)).toEqual({ result: "created", entity: "enrollment" });
    expect(tally(dry["classes.csv"])).toEqual({ unchanged: 2, updated: 1 });
    const outcomes = await run(files, false);
    expect(tally(outcomes["classes.csv"])).toEqual({ unchanged: 2, updated: 1 });
    expect(tally(outcomes["courses.csv"])).toEqual({ unchanged: 1, updated: 1 });
    expect(tally(outcomes["users.csv"])).toEqual({ unchanged: 7, created: 1, skipped: 1, failed: 1 });
    expect(outcomes["enrollments.csv"]?.at(-1)).toEqual({ result: "created", entity: "enrollment" });
    expect(await db.sql`select name from sections where id = ${section?.id as string}`).toEqual([{ name: "Biology I - Period 4" }]);
    expect(await db.sql`select count(*)::int as n from courses where title = 'Algebra 2'`).toEqual([{ n: 1 }]);
    expect(await db.sql`select count(*)::int as n from enrollments where section_id = ${section?.id as string} and status = 'active'`).toEqual([{ n: 2 }]);
  });

  it("fails rows that name what the bundle does not hold, and never links one account to two sourcedIds", async () => {
    const files = fixtureFiles({
      "classes.csv": (t) => `${t}cls-x,,,Chemistry,11,crs-missing,,scheduled,,org-school-1,as-2027-fall,,,\ncls-y,,,Physics,11,crs-bio-1,,scheduled,,org-nowhere,as-2027-fall,,,\n`,
      "users.csv": (t) => `${t}usr-dup,,,true,mlopez2,,Maria,Lopez,,,MLOPEZ@riverside.example,,,,,,,,,,,,\n`,
    });
    const outcomes = await run(files, false);
    expect(outcomes["classes.csv"]?.slice(3)).toEqual([
      { result: "failed", entity: "section", reason: "course crs-missing is not in courses.csv" },
      { result: "failed", entity: "section", reason: "school org-nowhere is not in orgs.csv" },
    ]);
    expect(outcomes["users.csv"]?.at(-1)).toEqual({ result: "failed", entity: "user", reason: "the account of mlopez@riverside.example was imported as user usr-t-1" });
  });

  it("reads `aide` as a teaching assistant too, and no inherited name as a role", async () => {
    const files = fixtureFiles({
      "enrollments.csv": (t) => `${t}enr-11,,,cls-bio-1b,org-school-1,usr-a-1,aide,false,2026-08-17,2026-12-19\nenr-12,,,cls-bio-1b,org-school-1,usr-s-2,constructor,,2026-08-17,2026-12-19\n`,
    });
    const outcomes = await run(files, true);
    expect(outcomes["enrollments.csv"]?.slice(-2)).toEqual([
      { result: "updated", entity: "staff" },
      { result: "skipped", entity: "enrollment", reason: "role constructor has no Ringlet course role" },
    ]);
  });

  it("never links one course or section to two sourcedIds of one batch (no fault, a reason)", async () => {
    const files = fixtureFiles({
      "courses.csv": (t) => `${t}crs-lab-a,,,as-2027,Lab,LAB-1,11,org-school-1,,\ncrs-lab-b,,,as-2027,Lab again,lab-1,11,org-school-1,,\n`,
      "classes.csv": (t) => `${t}cls-lab-1,,,Bench,11,crs-lab-a,,scheduled,,org-school-1,as-2027-fall,,,\ncls-lab-2,,,bench,11,crs-lab-a,,scheduled,,org-school-1,as-2027-fall,,,\n`,
    });
    const outcomes = await run(files, false);
    expect(outcomes["courses.csv"]?.slice(-2)).toEqual([
      { result: "created", entity: "course" },
      { result: "failed", entity: "course", reason: "Another course has the code lab-1." },
    ]);
    expect(outcomes["classes.csv"]?.slice(-2)).toEqual([
      { result: "created", entity: "section" },
      { result: "failed", entity: "section", reason: "section Bench is already linked to class cls-lab-1" },
    ]);
  });

  it("matches an existing course by its code before creating one", async () => {
    const courseId = uuidv7();
    await db.sql`insert into courses (id, title, code) values (${courseId}, 'Chemistry', 'CHEM-1')`;
    const files = fixtureFiles({ "courses.csv": (t) => `${t}crs-chem,,,as-2027,Chemistry,chem-1,11,org-school-1,,\n` });
    const outcomes = await run(files, false);
    expect(outcomes["courses.csv"]?.at(-1)).toEqual({ result: "unchanged", entity: "course" });
    expect(await db.sql`select entity_id from roster_sources where entity = 'course' and sourced_id = 'crs-chem'`).toEqual([{ entity_id: courseId }]);
  });

  it("keeps a learner listed in two classes of one course in the first, on every import, whatever the batches", async () => {
    const extra = { "enrollments.csv": (t: string) => `${t}enr-12,,,cls-bio-1b,org-school-1,usr-s-2,student,,,\n` };
    const skipped = { result: "skipped", entity: "enrollment", reason: "user usr-s-2 is in this course through class cls-bio-1a already" };
    for (let i = 0; i < 2; i++) {
      const outcomes = await run(fixtureFiles(extra), false, 2);
      expect(outcomes["enrollments.csv"]?.at(-1)).toEqual(skipped);
      expect(tallyByEntity(outcomes["enrollments.csv"])).toMatchObject({ "enrollment unchanged": 5 });
    }
    // Once the bundle no longer lists the first class, the learner moves.
    const moved = await run(fixtureFiles({ "enrollments.csv": (t) => `${t.replace(/^enr-6,.*\n/m, "")}enr-12,,,cls-bio-1b,org-school-1,usr-s-2,student,,,\n` }), false, 2);
    expect(moved["enrollments.csv"]?.at(-1)).toEqual({ result: "updated", entity: "enrollment" });
  });

  it("forgets an erased user's sourcedId: the next bundle naming it makes a new account, not the erased one", async () => {
    const [student] = await db.sql<{ entity_id: string }[]>`select entity_id from roster_sources where entity = 'user' and sourced_id = 'usr-s-4'`;
    const erased = await inTransactionOf(db, ctx)((tx) => erasePersonalData(tx, student?.entity_id as string, testErasureKeys));
    expect(erased?.erased).toBe(true);
    expect(await db.sql`select sourced_id from roster_sources where entity = 'user' and entity_id = ${student?.entity_id as string}`).toEqual([]);
    const outcomes = await run(fixtureFiles(), true);
    expect(outcomes["users.csv"]?.[6]).toEqual({ result: "created", entity: "user" });
  });
});
