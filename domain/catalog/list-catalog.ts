import { and, arrayContains, desc, eq, exists, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courses, courseStaff } from "../db/schema/index.js";
import { type CourseView, courseViewColumns, toCourseView } from "./course-view.js";
import type { Viewer } from "./viewer.js";

export interface CatalogQuery {
  /** Words to find in title and description. */
  q?: string;
  tag?: string;
  language?: string;
  /** Only courses with a free seat now. */
  hasSeats?: boolean;
  limit: number;
  beforeId?: string;
}

/**
 * Published courses, newest first (ids are UUIDv7: a stable order for keyset pagination). Staff also see
 * the drafts of their courses; admins see every draft. Archived courses are never listed.
 */
export async function listCatalog(db: Executor, viewer: Viewer, q: CatalogQuery): Promise<CourseView[]> {
  const mine = viewer.userId
    ? exists(db.select({ one: sql`1` }).from(courseStaff).where(and(eq(courseStaff.courseId, courses.id), eq(courseStaff.userId, viewer.userId))))
    : undefined;
  const visible = viewer.isAdmin
    ? inArray(courses.status, ["published", "draft"])
    : or(eq(courses.status, "published"), mine ? and(eq(courses.status, "draft"), mine) : undefined);
  const rows = await db
    .select(courseViewColumns)
    .from(courses)
    .where(
      and(
        visible,
        q.q ? sql`${courses.search} @@ websearch_to_tsquery('simple', ${q.q})` : undefined,
        q.tag ? arrayContains(courses.tags, [q.tag]) : undefined,
        q.language ? eq(courses.language, q.language) : undefined,
        q.hasSeats ? or(isNull(courses.capacity), sql`${courses.seatsTaken} < ${courses.capacity}`) : undefined,
        q.beforeId ? lt(courses.id, q.beforeId) : undefined,
      ),
    )
    .orderBy(desc(courses.id))
    .limit(q.limit + 1);
  return rows.map(toCourseView);
}
