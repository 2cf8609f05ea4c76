import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courses, courseStaff, courseStaffSections, enrollments, sections, users } from "../db/schema/index.js";
import { csvRow } from "../shared/csv.js";
import { fail, ok, type Result } from "../shared/result.js";
import { SEAT_STATUSES } from "./seat-statuses.js";
import { viewerScope } from "./staff-scope.js";
import type { CourseViewer } from "./viewer.js";

/** The columns of the `enrollments` import, in its order, so an exported roster imports back unchanged. */
export const rosterColumns = ["course", "email", "name", "role", "section"] as const;

const PAGE = 2000;

/**
 * The course's roster as CSV: its staff (one row per scoped section; the teaching assistant is the course role
 * grader), then its active learners with their section, by address; with `sectionIds`, only the learners placed in
 * those. Learners are queried in pages of PAGE rows, but the file is built whole in memory (responses are not
 * streamed in this app). Null when there is no such course.
 */
export async function rosterCsv(db: Executor, courseId: string, sectionIds: readonly string[] | null = null): Promise<string | null> {
  const [course] = await db.execute<{ label: string }>(sql`select coalesce(code, id::text) as label from ${courses} where id = ${courseId}`);
  if (!course) return null;
  const parts = [csvRow(rosterColumns)];
  const staff = await db.execute<{ email: string; name: string; role: "instructor" | "grader"; section: string | null }>(sql`
    select u.email, u.display_name as name, cs.role, s.name as section
    from ${courseStaff} cs join ${users} u on u.id = cs.user_id
    left join ${courseStaffSections} css on css.course_id = cs.course_id and css.user_id = cs.user_id
    left join ${sections} s on s.id = css.section_id
    where cs.course_id = ${courseId}
    order by cs.role desc, u.email, s.name`);
  for (const r of staff) parts.push(csvRow([course.label, r.email, r.name, r.role === "grader" ? "teaching-assistant" : "instructor", r.section]));
  let after = "";
  for (;;) {
    const page = await db.execute<{ email: string; name: string; section: string | null }>(sql`
      select u.email, u.display_name as name, s.name as section
      from ${enrollments} e join ${users} u on u.id = e.user_id left join ${sections} s on s.id = e.section_id
      where e.course_id = ${courseId} and e.status in ${SEAT_STATUSES} and u.email > ${after}
        ${sectionIds ? sql`and e.section_id = any(${sql.param([...sectionIds])}::uuid[])` : sql``}
      order by u.email limit ${PAGE}`);
    for (const r of page) parts.push(csvRow([course.label, r.email, r.name, "learner", r.section]));
    if (page.length < PAGE) break;
    after = (page[page.length - 1] as { email: string }).email;
  }
  return parts.join("");
}

/** The roster as a staff member sees it: a grader scoped to sections gets only their sections' learners. */
export async function rosterCsvSeenBy(
  db: Executor,
  courseId: string,
  viewer: Pick<CourseViewer, "userId" | "isAdmin">,
): Promise<Result<string, "COURSE_NOT_FOUND">> {
  const csv = await rosterCsv(db, courseId, await viewerScope(db, courseId, viewer));
  return csv === null ? fail("COURSE_NOT_FOUND") : ok(csv);
}
