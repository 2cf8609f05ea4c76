import { and, desc, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { announcements } from "../db/schema/index.js";
import type { CourseViewer } from "../catalog/viewer.js";
import { fail, ok, type Result } from "../shared/result.js";
import { announcementColumns, type AnnouncementView, audienceFilter, audienceOf, readColumn } from "./announcement-view.js";

export interface AnnouncementQuery {
  /** keyset position from the cursor: the last [publishAt, id] of the previous page */
  after?: { publishAt: Date; id: string };
  limit: number;
}

/**
 * A course's announcements as the viewer sees them (audienceOf), newest publish time first, with their read
 * state. Fetches `limit + 1` rows so the caller can tell whether there is a next page.
 */
export async function courseAnnouncements(db: Executor, courseId: string, viewer: CourseViewer, query: AnnouncementQuery): Promise<Result<AnnouncementView[], "COURSE_NOT_FOUND">> {
  const audience = await audienceOf(db, courseId, viewer);
  if (!audience) return fail("COURSE_NOT_FOUND");
  const after = query.after
    ? sql`(${announcements.publishAt}, ${announcements.id}) < (${query.after.publishAt.toISOString()}::timestamptz, ${query.after.id}::uuid)`
    : undefined;
  const rows = await db
    .select({ ...announcementColumns, read: readColumn(viewer.userId) })
    .from(announcements)
    .where(and(eq(announcements.courseId, courseId), audienceFilter(audience), after))
    .orderBy(desc(announcements.publishAt), desc(announcements.id))
    .limit(query.limit + 1);
  return ok(rows);
}
