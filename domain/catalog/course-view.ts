import { eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type CourseStatus, coursePrerequisites, courses, type WaitlistMode } from "../db/schema/index.js";
import { paymentFirstSql } from "../finance/fees.js";

export interface CourseView {
  id: string;
  /** A short human code ("CS-101") that imports name the course by; null when none is set. */
  code: string | null;
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
  /** A course-wide fee asks for payment first: a new enrollment holds the seat as pending-payment (its fees: GET .../fees). */
  paymentRequired: boolean;
  passPercent: number;
  publishedAt: Date | null;
  archivedAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** What a course view is made of: the course's columns (not its search vector) and its prerequisites. */
export const courseViewColumns = {
  id: courses.id,
  code: courses.code,
  title: courses.title,
  description: courses.description,
  language: courses.language,
  tags: courses.tags,
  status: courses.status,
  capacity: courses.capacity,
  seatsTaken: courses.seatsTaken,
  waitlistEnabled: courses.waitlistEnabled,
  waitlistMode: courses.waitlistMode,
  offerTtlHours: courses.offerTtlHours,
  selfEnrollment: courses.selfEnrollment,
  enrollmentOpensAt: courses.enrollmentOpensAt,
  enrollmentClosesAt: courses.enrollmentClosesAt,
  sequentialProgress: courses.sequentialProgress,
  passPercent: courses.passPercent,
  publishedAt: courses.publishedAt,
  archivedAt: courses.archivedAt,
  version: courses.version,
  createdAt: courses.createdAt,
  updatedAt: courses.updatedAt,
  // In the same query (one round trip per page, not one more per course), in id order.
  prerequisiteCourseIds: sql<string[]>`coalesce((select array_agg(p.required_course_id order by p.required_course_id)
    from ${coursePrerequisites} p where p.course_id = ${courses.id}), '{}'::uuid[])`.mapWith((v: string[]) => v),
  paymentRequired: sql<boolean>`${paymentFirstSql(sql`${courses.id}`)}`.mapWith(Boolean),
};

export type CourseViewRow = Omit<typeof courses.$inferSelect, "search" | "completionDeadline" | "createdByUserId"> & { prerequisiteCourseIds: string[]; paymentRequired: boolean };

export function toCourseView(row: CourseViewRow): CourseView {
  return {
    id: row.id,
    code: row.code,
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
    prerequisiteCourseIds: row.prerequisiteCourseIds,
    paymentRequired: row.paymentRequired,
    passPercent: row.passPercent,
    publishedAt: row.publishedAt,
    archivedAt: row.archivedAt,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const buildFindCourse = (db: Executor) =>
  db
    .select(courseViewColumns)
    .from(courses)
    .where(eq(courses.id, sql.placeholder("courseId")))
    .prepare("find_course");

// The pool's read is built once (drizzle's builder costs more than the query on this hot path); a
// transaction's is built for it.
const findCourseOnPool = new WeakMap<Executor, ReturnType<typeof buildFindCourse>>();

/** One course with its prerequisites: one query. */
export async function findCourse(db: Executor, courseId: string): Promise<CourseView | null> {
  let query = findCourseOnPool.get(db);
  if (!query) {
    query = buildFindCourse(db);
    if (!("rollback" in db)) findCourseOnPool.set(db, query);
  }
  const [row] = await query.execute({ courseId });
  return row ? toCourseView(row) : null;
}
