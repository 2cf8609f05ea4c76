import { sql } from "drizzle-orm";
import { z } from "zod";
import { sections } from "../../db/schema/index.js";
import type { DomainContext } from "../../shared/context.js";
import { lockNames } from "../../sections/manage-sections.js";
import type { ImportRun, RowOutcome, RowPart, StagedRow } from "../import-kind.js";
import { courseKey, courseRefSchema, courseRefusal, findSections, type ImportCourse, type ImportSection, resolveCourses, sectionKey, sectionNameSchema } from "./roster-rows.js";

// The `sections` kind: a course's sections by name, with an optional capacity.

export interface SectionRow {
  course: string;
  name: string;
  /** Null: the file leaves it empty (a new section is unlimited; an existing one keeps its capacity). */
  capacity: number | null;
}

const sectionRowSchema: z.ZodType<SectionRow> = z.object({
  course: courseRefSchema,
  name: sectionNameSchema.min(1, { error: "name is required" }),
  capacity: z
    .string()
    .optional()
    .transform((c, ctx) => {
      if (!c) return null;
      const n = /^\d{1,6}$/.test(c) ? Number(c) : NaN;
      if (n >= 1 && n <= 100_000) return n;
      ctx.addIssue({ code: "custom", message: "capacity is not a whole number from 1 to 100000" });
      return z.NEVER;
    }),
});

/**
 * Set-based: one read of the courses, one of their sections with these names (locked), one insert of the new ones
 * (`on conflict do nothing` on the name index: a section another change created meanwhile is read and compared
 * instead) and one update of the capacities that differ. A dry run reads and decides the same, and writes nothing.
 */
async function applySections(ctx: DomainContext, run: ImportRun, rows: StagedRow<SectionRow>[]): Promise<RowOutcome[]> {
  const outcomes: (RowOutcome | null)[] = rows.map(() => null);
  const courseByRef = await resolveCourses(ctx, rows.map((r) => r.row.course), false);
  const courseOf = new Map<number, ImportCourse>();
  for (const [i, { row }] of rows.entries()) {
    const course = courseByRef.get(courseKey(row.course));
    const refusal = await courseRefusal(ctx, run, course, row.course);
    if (refusal) outcomes[i] = { result: "failed", entity: "section", reason: refusal };
    else courseOf.set(i, course as ImportCourse);
  }
  const wanted = [...courseOf.entries()].map(([i, course]) => ({ i, courseId: course.id, name: (rows[i] as StagedRow<SectionRow>).row.name }));
  // The name locks an HTTP create takes (nameFree), sorted: a create racing this batch waits and answers 409.
  if (!run.dryRun) await lockNames(ctx.db, "sections", wanted);
  const existing = await findSections(ctx, wanted, !run.dryRun);

  const toCreate = wanted.filter((w) => !existing.has(sectionKey(w.courseId, w.name)));
  if (!run.dryRun && toCreate.length) {
    const now = ctx.now().toISOString();
    const created = await ctx.db.execute<{ course_id: string; name: string }>(sql`
      insert into ${sections} (id, course_id, name, capacity, created_at, updated_at)
      select v.id, v.course_id, v.name, v.capacity, ${now}::timestamptz, ${now}::timestamptz
      from unnest(${sql.param(toCreate.map(() => ctx.newId()))}::uuid[], ${sql.param(toCreate.map((w) => w.courseId))}::uuid[],
        ${sql.param(toCreate.map((w) => w.name))}::text[], ${sql.param(toCreate.map((w) => (rows[w.i] as StagedRow<SectionRow>).row.capacity))}::int[]) as v(id, course_id, name, capacity)
      on conflict do nothing
      returning course_id, name`);
    const made = new Set(created.map((c) => sectionKey(c.course_id, c.name)));
    const lost = toCreate.filter((w) => !made.has(sectionKey(w.courseId, w.name)));
    for (const w of toCreate) if (made.has(sectionKey(w.courseId, w.name))) outcomes[w.i] = { result: "created", entity: "section" };
    // Created by another change while this insert waited: compare with it like any existing section.
    for (const [key, section] of await findSections(ctx, lost, true)) existing.set(key, section);
  } else {
    for (const w of toCreate) outcomes[w.i] = { result: "created", entity: "section" };
  }

  const capacityChanges: { section: ImportSection; capacity: number }[] = [];
  for (const w of wanted) {
    if (outcomes[w.i]) continue;
    const section = existing.get(sectionKey(w.courseId, w.name)) as ImportSection;
    const capacity = (rows[w.i] as StagedRow<SectionRow>).row.capacity;
    if (capacity === null || capacity === section.capacity) outcomes[w.i] = { result: "unchanged", entity: "section" };
    else {
      capacityChanges.push({ section, capacity });
      outcomes[w.i] = { result: "updated", entity: "section" };
    }
  }
  if (!run.dryRun && capacityChanges.length) {
    await ctx.db.execute(sql`
      update ${sections} set capacity = v.capacity, version = version + 1, updated_at = ${ctx.now().toISOString()}::timestamptz
      from unnest(${sql.param(capacityChanges.map((c) => c.section.id))}::uuid[], ${sql.param(capacityChanges.map((c) => c.capacity))}::int[]) as v(id, capacity)
      where ${sections}.id = v.id`);
  }
  return outcomes.map((o) => o ?? { result: "failed", entity: "section", reason: "the row was not applied" });
}

/** The `sections` kind: course (code or id), name, optional capacity. */
export const sectionsPart: RowPart<SectionRow> = {
  file: "sections",
  entity: "section",
  requiredColumns: ["course", "name"],
  optionalColumns: ["capacity"],
  schema: sectionRowSchema,
  key: (row) => `${courseKey(row.course)}|${row.name.toLowerCase()}`,
  apply: applySections,
};
