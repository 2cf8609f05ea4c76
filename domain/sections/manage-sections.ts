import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courses, courseStaffSections, sections } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { findSection, type SectionView } from "./section-view.js";
import type { SectionErrorCode } from "./sections.errors.js";

export interface SectionSettings {
  name: string;
  capacity: number | null;
  scheduleUrl: string | null;
}

/**
 * Names are unique per course case-insensitively. Two requests giving one name wait for each other on this
 * transaction-scoped lock, so the second sees the first's row and gets a 409, never a unique-index fault.
 */
const nameLockKey = (table: "sections" | "groups", courseId: string, name: string) => sql`hashtextextended(${`${table}:${courseId}:`} || lower(${name}), 0)`;

/**
 * Takes nameFree's locks for many names at once (a batch creating sections), in key order so two batches do not
 * deadlock; an HTTP create of one of these names then waits for the batch and sees its row.
 */
export async function lockNames(db: Executor, table: "sections" | "groups", names: readonly { courseId: string; name: string }[]): Promise<void> {
  if (!names.length) return;
  await db.execute(sql`
    select pg_advisory_xact_lock(k) from (
      select distinct hashtextextended(v.prefix || lower(v.name), 0) as k
      from unnest(${sql.param(names.map((n) => `${table}:${n.courseId}:`))}::text[], ${sql.param(names.map((n) => n.name))}::text[]) as v(prefix, name)
      order by k offset 0) as keys`);
}

export async function nameFree(db: Executor, table: "sections" | "groups", courseId: string, name: string, exceptId: string | null): Promise<boolean> {
  await db.execute(sql`select pg_advisory_xact_lock(${nameLockKey(table, courseId, name)})`);
  const rows = await db.execute<{ taken: boolean }>(sql`
    select exists (select 1 from ${sql.identifier(table)} where course_id = ${courseId}::uuid and lower(name) = lower(${name})
      and (${exceptId}::uuid is null or id <> ${exceptId}::uuid)) as taken`);
  return !rows[0]?.taken;
}

export async function createSection(ctx: DomainContext, courseId: string, input: SectionSettings): Promise<Result<SectionView, SectionErrorCode>> {
  const [course] = await ctx.db.select({ id: courses.id }).from(courses).where(eq(courses.id, courseId));
  if (!course) return fail("COURSE_NOT_FOUND");
  if (!(await nameFree(ctx.db, "sections", courseId, input.name, null))) return fail("SECTION_NAME_TAKEN", `The course has a section named ${input.name}.`);
  const id = ctx.newId();
  const now = ctx.now();
  await ctx.db.insert(sections).values({ id, courseId, ...input, createdAt: now, updatedAt: now });
  return ok((await findSection(ctx.db, courseId, id)) as SectionView);
}

/** A partial change; `expectedVersion` (from If-Match) turns a concurrent change into PRECONDITION_FAILED. */
export async function updateSection(
  ctx: DomainContext,
  courseId: string,
  sectionId: string,
  patch: Partial<SectionSettings>,
  expectedVersion?: number,
): Promise<Result<SectionView, SectionErrorCode>> {
  const [current] = await ctx.db
    .select()
    .from(sections)
    .where(and(eq(sections.id, sectionId), eq(sections.courseId, courseId)))
    .for("update");
  if (!current) return fail("SECTION_NOT_FOUND");
  if (expectedVersion !== undefined && current.version !== expectedVersion) return fail("PRECONDITION_FAILED");
  if (patch.name !== undefined && !(await nameFree(ctx.db, "sections", courseId, patch.name, sectionId))) {
    return fail("SECTION_NAME_TAKEN", `The course has a section named ${patch.name}.`);
  }
  await ctx.db
    .update(sections)
    .set({ ...patch, version: current.version + 1, updatedAt: ctx.now() })
    .where(eq(sections.id, sectionId));
  return ok((await findSection(ctx.db, courseId, sectionId)) as SectionView);
}

/** Deletes a section; its learners stay enrolled, without a section (the foreign key sets it null). */
export async function deleteSection(ctx: DomainContext, courseId: string, sectionId: string, expectedVersion?: number): Promise<Result<null, SectionErrorCode>> {
  // The course row lock setStaffSections takes, first: two deletes counting each other's staff as scoped elsewhere,
  // or a scope change naming this section meanwhile, wait for each other instead of widening a scope or hitting the FK.
  await ctx.db.select({ id: courses.id }).from(courses).where(eq(courses.id, courseId)).for("no key update");
  const [current] = await ctx.db
    .select({ version: sections.version })
    .from(sections)
    .where(and(eq(sections.id, sectionId), eq(sections.courseId, courseId)))
    .for("update");
  if (!current) return fail("SECTION_NOT_FOUND");
  if (expectedVersion !== undefined && current.version !== expectedVersion) return fail("PRECONDITION_FAILED");
  // Staff scoped to this section alone would be left with no scope rows, which means the whole course: widening
  // what they see by deleting a section is refused; they are scoped elsewhere (or to the course) first.
  const [stranded] = await ctx.db.execute<{ n: number }>(sql`
    select count(*)::int as n from ${courseStaffSections} s where s.section_id = ${sectionId}
      and not exists (select 1 from ${courseStaffSections} o where o.course_id = s.course_id and o.user_id = s.user_id and o.section_id <> s.section_id)`);
  if (stranded && stranded.n > 0) return fail("SECTION_HAS_STAFF", `${stranded.n} staff member(s) are scoped to this section alone; scope them elsewhere first.`);
  await ctx.db.delete(sections).where(eq(sections.id, sectionId));
  return ok(null);
}
