import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { announcementReads, announcements, enrollments } from "../db/schema/index.js";
import { type CourseViewer, seesAsStaff } from "../catalog/viewer.js";
import { viewerScope } from "../sections/staff-scope.js";
import { fail, ok, type Result } from "../shared/result.js";

/** An announcement as the API shows it; `read` is the viewer's own read state. */
export interface AnnouncementView {
  id: string;
  courseId: string;
  sectionId: string | null;
  authorUserId: string | null;
  title: string;
  bodyMarkdown: string;
  bodyHtml: string;
  urgent: boolean;
  publishAt: Date;
  publishedAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  read: boolean;
}

export type AnnouncementRow = Omit<AnnouncementView, "read">;

export const announcementColumns = {
  id: announcements.id,
  courseId: announcements.courseId,
  sectionId: announcements.sectionId,
  authorUserId: announcements.authorUserId,
  title: announcements.title,
  bodyMarkdown: announcements.bodyMarkdown,
  bodyHtml: announcements.bodyHtml,
  urgent: announcements.urgent,
  publishAt: announcements.publishAt,
  publishedAt: announcements.publishedAt,
  version: announcements.version,
  createdAt: announcements.createdAt,
  updatedAt: announcements.updatedAt,
};

/** The course of an announcement (the access check's locator); null when there is none. */
export async function announcementCourse(db: Executor, announcementId: string): Promise<string | null> {
  const [row] = await db.select({ courseId: announcements.courseId }).from(announcements).where(eq(announcements.id, announcementId));
  return row?.courseId ?? null;
}

/**
 * Which announcements of a course a viewer sees: staff all of them (scheduled too) but, when scoped to sections,
 * only the whole course's and their sections'; a learner the published ones of the whole course and of the
 * section of their active enrollment. Null: the viewer is no member of the course.
 */
export interface Audience {
  staff: boolean;
  /** null: every section */
  sectionIds: string[] | null;
}

export async function audienceOf(db: Executor, courseId: string, viewer: CourseViewer): Promise<Audience | null> {
  if (await seesAsStaff(viewer, courseId)) return { staff: true, sectionIds: await viewerScope(db, courseId, viewer) };
  const [own] = await db
    .select({ sectionId: enrollments.sectionId })
    .from(enrollments)
    .where(and(eq(enrollments.courseId, courseId), eq(enrollments.userId, viewer.userId), eq(enrollments.status, "active")));
  return own ? { staff: false, sectionIds: own.sectionId ? [own.sectionId] : [] } : null;
}

/** The audience's filter on announcements, as SQL. */
export function audienceFilter(audience: Audience) {
  const sections = audience.sectionIds === null ? sql`true` : sql`(${announcements.sectionId} is null or ${announcements.sectionId} = any(${sql.param(audience.sectionIds)}::uuid[]))`;
  return audience.staff ? sections : sql`(${announcements.publishedAt} is not null and ${sections})`;
}

/** Whether the audience sees an announcement already read (the in-memory twin of `audienceFilter`). */
export function inAudience(audience: Audience, row: Pick<AnnouncementRow, "sectionId" | "publishedAt">): boolean {
  const inSections = audience.sectionIds === null || row.sectionId === null || audience.sectionIds.includes(row.sectionId);
  return inSections && (audience.staff || row.publishedAt !== null);
}

export const readColumn = (userId: string) =>
  sql<boolean>`exists (select 1 from ${announcementReads} r where r.announcement_id = ${announcements.id} and r.user_id = ${userId})`.mapWith(Boolean);

/** One announcement as the viewer may see it; not found when they may not. */
export async function announcementSeenBy(db: Executor, announcementId: string, viewer: CourseViewer): Promise<Result<AnnouncementView, "ANNOUNCEMENT_NOT_FOUND">> {
  const [row] = await db
    .select({ ...announcementColumns, read: readColumn(viewer.userId) })
    .from(announcements)
    .where(eq(announcements.id, announcementId));
  const audience = row ? await audienceOf(db, row.courseId, viewer) : null;
  return row && audience && inAudience(audience, row) ? ok(row) : fail("ANNOUNCEMENT_NOT_FOUND");
}
