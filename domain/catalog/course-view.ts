import { asc, eq, inArray } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type CourseStatus, coursePrerequisites, courses, type WaitlistMode } from "../db/schema/index.js";

export interface CourseView {
  id: string;
  title: string;
  description: string;
  language: string;
  tags: string[];
  status: CourseStatus;
  capacity: number | null;
  seatsTaken: number;
  seatsAvailable: number | null;
  waitlistEnabled: boolean;
  waitlistMode: WaitlistMode;
  offerTtlHours: number;
  selfEnrollment: boolean;
  enrollmentOpensAt: Date | null;
  enrollmentClosesAt: Date | null;
  sequentialProgress: boolean;
  prerequisiteCourseIds: string[];
  passPercent: number;
  publishedAt: Date | null;
  archivedAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export type CourseRow = typeof courses.$inferSelect;

export function toCourseView(row: CourseRow, prerequisiteCourseIds: string[]): CourseView {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    language: row.language,
    tags: row.tags,
    status: row.status,
    capacity: row.capacity,
    seatsTaken: row.seatsTaken,
    seatsAvailable: row.capacity === null ? null : Math.max(0, row.capacity - row.seatsTaken),
    waitlistEnabled: row.waitlistEnabled,
    waitlistMode: row.waitlistMode,
    offerTtlHours: row.offerTtlHours,
    selfEnrollment: row.selfEnrollment,
    enrollmentOpensAt: row.enrollmentOpensAt,
    enrollmentClosesAt: row.enrollmentClosesAt,
    sequentialProgress: row.sequentialProgress,
    prerequisiteCourseIds,
    passPercent: row.passPercent,
    publishedAt: row.publishedAt,
    archivedAt: row.archivedAt,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Course views with their prerequisites, in the order of `rows`. */
export async function courseViews(db: Executor, rows: CourseRow[]): Promise<CourseView[]> {
  if (rows.length === 0) return [];
  const prereqs = await db
    .select()
    .from(coursePrerequisites)
    .where(
      inArray(
        coursePrerequisites.courseId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(coursePrerequisites.requiredCourseId));
  return rows.map((r) => toCourseView(r, prereqs.filter((p) => p.courseId === r.id).map((p) => p.requiredCourseId)));
}

export async function findCourse(db: Executor, courseId: string): Promise<CourseView | null> {
  const [row] = await db.select().from(courses).where(eq(courses.id, courseId));
  return row ? ((await courseViews(db, [row]))[0] ?? null) : null;
}
