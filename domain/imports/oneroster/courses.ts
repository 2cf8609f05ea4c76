import { sql } from "drizzle-orm";
import { z } from "zod";
import { type CourseSettings, createCourse, updateCourse } from "../../catalog/manage-course.js";
import { courses } from "../../db/schema/index.js";
import type { RowOutcome, RowPart } from "../import-kind.js";
import { columnsOf, guid, optionalGuid, optionalText, refusedForCourseStaff, skipDeleted, status, text } from "./columns.js";
import { references } from "./references.js";
import { batchLinks, linkSources, lockSourcedIds, sourcedIdsOf, sourcesOf } from "./sources.js";

export interface CourseRow {
  sourcedId: string;
  status: "" | "active" | "tobedeleted";
  title: string;
  courseCode: string | null;
  orgSourcedId: string;
  schoolYearSourcedId: string | null;
}

const schema: z.ZodType<CourseRow> = z
  .object({
    sourcedid: guid("sourcedId"),
    status,
    title: text("title"),
    coursecode: optionalText("courseCode", 255),
    orgsourcedid: guid("orgSourcedId"),
    schoolyearsourcedid: optionalGuid("schoolYearSourcedId"),
  })
  .transform((r) => ({
    sourcedId: r.sourcedid,
    status: r.status,
    title: r.title,
    courseCode: r.coursecode,
    orgSourcedId: r.orgsourcedid,
    schoolYearSourcedId: r.schoolyearsourcedid,
  }));

// Ringlet's course codes are short ("CS-101"); a SIS code that is not one (spaces, say) is not kept, and the course
// is found again by its sourcedId.
const RINGLET_CODE = /^[A-Za-z0-9._-]{1,32}$/;
const ringletCode = (code: string | null) => (code !== null && RINGLET_CODE.test(code) ? code : null);

// A course a bundle creates is a draft its importer finishes; learners come from the roster, not self-enrollment.
const newCourse = (title: string, code: string | null): CourseSettings => ({
  code,
  title,
  description: "",
  language: "en",
  tags: [],
  capacity: null,
  waitlistEnabled: false,
  waitlistMode: "auto",
  offerTtlHours: 48,
  selfEnrollment: false,
  enrollmentOpensAt: null,
  enrollmentClosesAt: null,
  sequentialProgress: false,
  prerequisiteCourseIds: [],
  passPercent: 60,
});

const failed = (reason: string): RowOutcome => ({ result: "failed", entity: "course", reason });

/**
 * courses.csv (OneRoster 1.2 CSV Binding, section 3) → Ringlet courses: matched by sourcedId, then by courseCode = code;
 * title and code kept up to date; new ones created as drafts through the course catalogue's own operations (a
 * bundle has tens of courses, and each creation has its event, audit entry and instructor).
 */
export const coursesPart: RowPart<CourseRow> = {
  file: "courses.csv",
  entity: "course",
  requiredColumns: columnsOf(["sourcedId", "title", "orgSourcedId"]),
  optionalColumns: columnsOf(["status", "dateLastModified", "schoolYearSourcedId", "courseCode", "grades", "subjects", "subjectCodes"]),
  schema,
  key: (row) => row.sourcedId,
  async apply(ctx, run, rows) {
    const refused = refusedForCourseStaff(run, "course", rows);
    if (refused) return refused;
    const orgs = await references(ctx, run, { entity: "org", file: "orgs.csv", label: "org" }, rows.map((r) => r.row.orgSourcedId));
    const years = await references(
      ctx,
      run,
      { entity: "academic-session", file: "academicSessions.csv", label: "school year" },
      rows.flatMap((r) => (r.row.schoolYearSourcedId ? [r.row.schoolYearSourcedId] : [])),
    );
    await lockSourcedIds(ctx, "course", rows.map((r) => r.row.sourcedId));
    const linked = await sourcesOf(ctx.db, "course", rows.map((r) => r.row.sourcedId));
    const codes = rows.flatMap(({ row }) => (linked.has(row.sourcedId) ? [] : (ringletCode(row.courseCode)?.toLowerCase() ?? [])));
    const byCode = new Map(
      codes.length === 0
        ? []
        : (
            await ctx.db
              .select({ id: courses.id, code: courses.code })
              .from(courses)
              .where(sql`lower(${courses.code}) = any(${sql.param(codes)}::text[])`)
          ).map((c) => [(c.code ?? "").toLowerCase(), c.id]),
    );
    const ids = [...new Set([...[...linked.values()].map((s) => s.entityId), ...byCode.values()])];
    const current = new Map(
      ids.length === 0
        ? []
        : (
            await ctx.db
              .select({ id: courses.id, title: courses.title, code: courses.code, status: courses.status })
              .from(courses)
              .where(sql`${courses.id} = any(${sql.param(ids)}::uuid[])`)
          ).map((c) => [c.id, c]),
    );
    // What this batch linked so far counts as well: two rows naming one course by code cannot both have it.
    const { links, linkedTo, link, unlink } = batchLinks(await sourcedIdsOf(ctx.db, "course", [...byCode.values()]));
    const outcomes: RowOutcome[] = [];
    for (const { row } of rows) {
      if (row.status === "tobedeleted") {
        outcomes.push(skipDeleted("course"));
        continue;
      }
      const org = orgs.resolve(row.orgSourcedId);
      if ("missing" in org) {
        outcomes.push(failed(org.missing));
        continue;
      }
      const year = row.schoolYearSourcedId ? years.resolve(row.schoolYearSourcedId) : null;
      if (year && "missing" in year) {
        outcomes.push(failed(year.missing));
        continue;
      }
      const code = ringletCode(row.courseCode);
      const courseId = linked.get(row.sourcedId)?.entityId ?? (code ? byCode.get(code.toLowerCase()) : undefined);
      const course = courseId ? current.get(courseId) : undefined;
      if (!course) {
        if (run.dryRun) {
          outcomes.push({ result: "created", entity: "course" });
          continue;
        }
        const made = await createCourse(ctx, run.importerUserId, newCourse(row.title, code));
        if (!made.ok) {
          outcomes.push(failed(made.error.detail ?? `course ${row.sourcedId} could not be created (${made.error.code})`));
          continue;
        }
        link(row.sourcedId, made.value.id);
        outcomes.push({ result: "created", entity: "course" });
        continue;
      }
      const other = linkedTo.get(course.id);
      if (!linked.has(row.sourcedId) && other !== undefined && other !== row.sourcedId) {
        outcomes.push(failed(`course ${course.code ?? course.id} is already linked to sourcedId ${other}`));
        continue;
      }
      link(row.sourcedId, course.id);
      // A code the SIS dropped (or one Ringlet cannot keep) leaves the course's own code alone; codes compare case-insensitively.
      const patch: Partial<CourseSettings> = {
        ...(course.title !== row.title ? { title: row.title } : {}),
        ...(code && code.toLowerCase() !== course.code?.toLowerCase() ? { code } : {}),
      };
      if (Object.keys(patch).length === 0) {
        outcomes.push({ result: "unchanged", entity: "course" });
        continue;
      }
      if (course.status === "archived") {
        outcomes.push(failed(`course ${course.code ?? course.id} is archived and cannot change`));
        continue;
      }
      if (!run.dryRun) {
        const changed = await updateCourse(ctx, course.id, patch);
        if (!changed.ok) {
          unlink();
          outcomes.push(failed(changed.error.detail ?? `course ${row.sourcedId} could not be changed (${changed.error.code})`));
          continue;
        }
      }
      outcomes.push({ result: "updated", entity: "course" });
    }
    if (!run.dryRun) await linkSources(ctx, "course", links);
    return outcomes;
  },
};
