import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCourse, updateCourse } from "../../../domain/catalog/manage-course.js";
import { createGroup } from "../../../domain/sections/groups.js";
import { createSection, deleteSection } from "../../../domain/sections/manage-sections.js";
import { setStaffSections } from "../../../domain/sections/staff-scope.js";
import { sectionsPart } from "../../../domain/imports/kinds/sections.js";
import { placeLearner } from "../../../domain/sections/place-learner.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";

// Requests racing on real parallel connections: the loser gets its expected outcome, never a constraint fault.

let db: TestDatabase;
let ctx: DomainContext;
let inTx: ReturnType<typeof inTransactionOf>;
let courseId: string;
let creatorId: string;

const settings = {
  code: null,
  title: "Races",
  description: "",
  language: "en",
  tags: [],
  capacity: null,
  waitlistEnabled: true,
  waitlistMode: "auto" as const,
  offerTtlHours: 48,
  selfEnrollment: true,
  enrollmentOpensAt: null,
  enrollmentClosesAt: null,
  sequentialProgress: false,
  prerequisiteCourseIds: [],
  passPercent: 60,
};

beforeAll(async () => {
  ({ db, ctx } = await openDomainDatabase());
  inTx = inTransactionOf(db, ctx);
  creatorId = ctx.newId();
  await db.sql`insert into users (id, email, display_name) values (${creatorId}, ${`creator-${creatorId}@example.test`}, 'Creator')`;
  const course = await inTx((tx) => createCourse(tx, creatorId, settings));
  if (!course.ok) throw new Error("no course");
  courseId = course.value.id;
});
afterAll(async () => {
  await db?.drop();
});

async function enrolled(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const userId = ctx.newId();
    const id = ctx.newId();
    await db.sql`insert into users (id, email, display_name) values (${userId}, ${`l-${userId}@example.test`}, 'Learner')`;
    await db.sql`insert into enrollments (id, course_id, user_id, status, source, enrolled_at) values (${id}, ${courseId}, ${userId}, 'active', 'staff', now())`;
    ids.push(id);
  }
  return ids;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `first` in a transaction that stays open a while after it returns, and `second` meanwhile: without a lock
 * between them the second would decide on a read that misses the first's uncommitted change.
 */
async function overlapping<A, B>(first: (tx: DomainContext) => Promise<A>, second: (tx: DomainContext) => Promise<B>): Promise<[A, B]> {
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  const a = inTx(async (tx) => {
    const result = await first(tx);
    await held;
    return result;
  });
  await sleep(150);
  const b = inTx(second);
  await sleep(300);
  release();
  return Promise.all([a, b]);
}

const codeOf = (r: { ok: true } | { ok: false; error: { code: string } }) => (r.ok ? "ok" : r.error.code);

describe("racing requests", () => {
  it("gives a section's last seat to one of two placements", async () => {
    const section = await inTx((tx) => createSection(tx, courseId, { name: "Last seat", capacity: 1, scheduleUrl: null }));
    if (!section.ok) throw new Error("no section");
    const [one, two] = await enrolled(2);
    const place = (enrollmentId: string | undefined) => (tx: DomainContext) => placeLearner(tx, { courseId, enrollmentId: enrollmentId as string, sectionId: section.value.id });
    expect((await overlapping(place(one), place(two))).map(codeOf)).toEqual(["ok", "SECTION_FULL"]);
    expect(await db.sql`select 1 from enrollments where section_id = ${section.value.id}`).toHaveLength(1);
  });

  it("gives a name to one of two sections, groups and course codes created at once", async () => {
    const section = (name: string) => (tx: DomainContext) => createSection(tx, courseId, { name, capacity: null, scheduleUrl: null });
    expect((await overlapping(section("Same"), section("same"))).map(codeOf)).toEqual(["ok", "SECTION_NAME_TAKEN"]);
    const group = (name: string) => (tx: DomainContext) => createGroup(tx, courseId, name);
    expect((await overlapping(group("Team"), group("TEAM"))).map(codeOf)).toEqual(["ok", "GROUP_NAME_TAKEN"]);
    const codes = await overlapping(
      (tx) => createCourse(tx, creatorId, { ...settings, code: "RACE-1" }),
      (tx) => updateCourse(tx, courseId, { code: "race-1" }),
    );
    expect(codes.map(codeOf)).toEqual(["ok", "COURSE_CODE_TAKEN"]);
  });

  it("never widens a scoped grader by deleting their sections at once, nor scopes anyone to a section being deleted", async () => {
    const newSection = async (name: string) => {
      const made = await inTx((tx) => createSection(tx, courseId, { name, capacity: null, scheduleUrl: null }));
      if (!made.ok) throw new Error("no section");
      return made.value.id;
    };
    const [s1, s2, s3] = [await newSection("Del 1"), await newSection("Del 2"), await newSection("Del 3")];
    const graderId = ctx.newId();
    await db.sql`insert into users (id, email, display_name) values (${graderId}, ${`g-${graderId}@example.test`}, 'Grader')`;
    await db.sql`insert into course_staff (course_id, user_id, role) values (${courseId}, ${graderId}, 'grader')`;
    await db.sql`insert into course_staff_sections (course_id, user_id, section_id) values (${courseId}, ${graderId}, ${s1}), (${courseId}, ${graderId}, ${s2})`;
    const remove = (sectionId: string) => (tx: DomainContext) => deleteSection(tx, courseId, sectionId);
    expect((await overlapping(remove(s1), remove(s2))).map(codeOf)).toEqual(["ok", "SECTION_HAS_STAFF"]);
    expect(await db.sql`select section_id from course_staff_sections where user_id = ${graderId}`).toEqual([{ section_id: s2 }]);

    const scope = (tx: DomainContext) => setStaffSections(tx, { courseId, userId: graderId, sectionIds: [s3] });
    expect((await overlapping(remove(s3), scope)).map(codeOf)).toEqual(["ok", "SECTION_NOT_FOUND"]);
    expect(await db.sql`select section_id from course_staff_sections where user_id = ${graderId}`).toEqual([{ section_id: s2 }]);
  });

  it("answers an HTTP create racing an import of the same section name with a 409, not a unique-index fault", async () => {
    const run = { importId: ctx.newId(), dryRun: false, importerUserId: creatorId, courseId: null, appUrl: "https://app.example", invitationTtlHours: 72 };
    const rows = ["Zeta", "Imported", "Alpha"].map((name, i) => ({ line: i + 2, row: sectionsPart.schema.parse({ course: courseId, name }) }));
    const [imported, created] = await overlapping(
      (tx) => sectionsPart.apply(tx, run, rows),
      (tx) => createSection(tx, courseId, { name: "imported", capacity: null, scheduleUrl: null }),
    );
    expect(imported.map((o) => o.result)).toEqual(["created", "created", "created"]);
    expect(codeOf(created)).toBe("SECTION_NAME_TAKEN");
  });
});
