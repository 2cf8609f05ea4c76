import { sql } from "drizzle-orm";
import { z } from "zod";
import { sections } from "../../db/schema/index.js";
import { createSection, updateSection } from "../../sections/manage-sections.js";
import type { RowOutcome, RowPart } from "../import-kind.js";
import { columnsOf, guid, guidList, refusedForCourseStaff, skipDeleted, status, text } from "./columns.js";
import { references } from "./references.js";
import { batchLinks, linkSources, lockSourcedIds, sourcedIdsOf, sourcesOf } from "./sources.js";

export interface ClassRow {
  sourcedId: string;
  status: "" | "active" | "tobedeleted";
  title: string;
  courseSourcedId: string;
  schoolSourcedId: string;
  termSourcedIds: string[];
}

// Section names are at most this long in Ringlet (the sections routes' limit).
const SECTION_NAME_MAX = 100;

const schema: z.ZodType<ClassRow> = z
  .object({
    sourcedid: guid("sourcedId"),
    status,
    title: text("title", SECTION_NAME_MAX),
    coursesourcedid: guid("courseSourcedId"),
    schoolsourcedid: guid("schoolSourcedId"),
    termsourcedids: guidList("termSourcedIds").refine((l) => l.length > 0, { error: "termSourcedIds is required" }),
  })
  .transform((r) => ({
    sourcedId: r.sourcedid,
    status: r.status,
    title: r.title,
    courseSourcedId: r.coursesourcedid,
    schoolSourcedId: r.schoolsourcedid,
    termSourcedIds: r.termsourcedids,
  }));

const failed = (reason: string): RowOutcome => ({ result: "failed", entity: "section", reason });

/**
 * classes.csv (OneRoster 1.2 CSV Binding, section 3) → sections of their course: matched by sourcedId, then by the
 * course's section of that name; a renamed class renames its section. The school and terms it names must be in
 * the bundle. Sections are made and renamed through the sections' own operations (their name lock and checks).
 */
export const classesPart: RowPart<ClassRow> = {
  file: "classes.csv",
  entity: "section",
  requiredColumns: columnsOf(["sourcedId", "title", "courseSourcedId", "classType", "schoolSourcedId", "termSourcedIds"]),
  optionalColumns: columnsOf(["status", "dateLastModified", "grades", "classCode", "location", "subjects", "subjectCodes", "periods"]),
  schema,
  key: (row) => row.sourcedId,
  async apply(ctx, run, rows) {
    const refused = refusedForCourseStaff(run, "section", rows);
    if (refused) return refused;
    const all = rows.map((r) => r.row);
    const schools = await references(ctx, run, { entity: "org", file: "orgs.csv", label: "school" }, all.map((r) => r.schoolSourcedId));
    const terms = await references(ctx, run, { entity: "academic-session", file: "academicSessions.csv", label: "term" }, all.flatMap((r) => r.termSourcedIds));
    const courseRefs = await references(ctx, run, { entity: "course", file: "courses.csv", label: "course" }, all.map((r) => r.courseSourcedId));
    await lockSourcedIds(ctx, "section", all.map((r) => r.sourcedId));
    const linked = await sourcesOf(ctx.db, "section", all.map((r) => r.sourcedId));

    // Every section of the courses this batch names: by id, and by (course, lower-cased name).
    const linkedCourse = (r: ClassRow) => {
      const ref = courseRefs.resolve(r.courseSourcedId);
      return "linked" in ref ? [ref.linked.entityId] : [];
    };
    const courseIds = [...new Set(all.flatMap(linkedCourse))];
    const existing =
      courseIds.length === 0
        ? []
        : await ctx.db
            .select({ id: sections.id, courseId: sections.courseId, name: sections.name })
            .from(sections)
            .where(sql`${sections.courseId} = any(${sql.param(courseIds)}::uuid[])`);
    const byId = new Map(existing.map((s) => [s.id, s]));
    const byName = new Map(existing.map((s) => [`${s.courseId}/${s.name.toLowerCase()}`, s]));
    // What this batch linked so far counts as well: two classes of one title in a course cannot share its section.
    const { links, linkedTo, link, unlink } = batchLinks(await sourcedIdsOf(ctx.db, "section", existing.map((s) => s.id)));
    const outcomes: RowOutcome[] = [];
    for (const row of all) {
      if (row.status === "tobedeleted") {
        outcomes.push(skipDeleted("section"));
        continue;
      }
      const problem = [schools.resolve(row.schoolSourcedId), ...row.termSourcedIds.map((t) => terms.resolve(t))].find((r) => "missing" in r);
      if (problem && "missing" in problem) {
        outcomes.push(failed(problem.missing));
        continue;
      }
      const course = courseRefs.resolve(row.courseSourcedId);
      if ("missing" in course) {
        outcomes.push(failed(course.missing));
        continue;
      }
      // A course this dry run would create has no sections yet.
      if ("staged" in course) {
        outcomes.push({ result: "created", entity: "section" });
        continue;
      }
      const courseId = course.linked.entityId;
      const linkedSection = linked.get(row.sourcedId);
      const bySourcedId = linkedSection ? byId.get(linkedSection.entityId) : undefined;
      if (linkedSection && !bySourcedId) {
        outcomes.push(failed(`class ${row.sourcedId} is a section of another course in Ringlet; sections do not move between courses`));
        continue;
      }
      const section = bySourcedId ?? byName.get(`${courseId}/${row.title.toLowerCase()}`);
      if (!section) {
        if (run.dryRun) {
          outcomes.push({ result: "created", entity: "section" });
          continue;
        }
        const made = await createSection(ctx, courseId, { name: row.title, capacity: null, scheduleUrl: null });
        if (!made.ok) {
          outcomes.push(failed(made.error.detail ?? `class ${row.sourcedId} could not be created (${made.error.code})`));
          continue;
        }
        byName.set(`${courseId}/${row.title.toLowerCase()}`, { id: made.value.id, courseId, name: row.title });
        link(row.sourcedId, made.value.id);
        outcomes.push({ result: "created", entity: "section" });
        continue;
      }
      const other = linkedTo.get(section.id);
      if (!bySourcedId && other !== undefined && other !== row.sourcedId) {
        outcomes.push(failed(`section ${section.name} is already linked to class ${other}`));
        continue;
      }
      link(row.sourcedId, section.id);
      if (section.name === row.title) {
        outcomes.push({ result: "unchanged", entity: "section" });
        continue;
      }
      if (!run.dryRun) {
        const renamed = await updateSection(ctx, courseId, section.id, { name: row.title });
        if (!renamed.ok) {
          unlink();
          outcomes.push(failed(renamed.error.detail ?? `class ${row.sourcedId} could not be renamed (${renamed.error.code})`));
          continue;
        }
      }
      outcomes.push({ result: "updated", entity: "section" });
    }
    if (!run.dryRun) await linkSources(ctx, "section", links);
    return outcomes;
  },
};
