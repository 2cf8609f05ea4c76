import { and, asc, eq, gt, sql } from "drizzle-orm";
import { announcementReads, announcements } from "../db/schema/index.js";
import { byId, PAGE } from "../privacy/pages.js";
import type { PersonalDataPart } from "../privacy/personal-data.js";

/**
 * The data export's announcements: those the person wrote (as staff), and those they read (the id and when).
 * Both are kept at erasure (erasure.ts): the author's id only, and ids and times.
 */
export const announcementsPart: PersonalDataPart = {
  name: "announcements",
  file: "announcements.json",
  description: "The announcements you wrote to your courses (title, text, audience and times) and which announcements you read, and when.",
  pages: ({ db }, userId) =>
    byId((afterId) =>
      db
        .select({
          id: announcements.id,
          courseId: announcements.courseId,
          sectionId: announcements.sectionId,
          wrote: sql<boolean>`${announcements.authorUserId} = ${userId}`.mapWith(Boolean),
          title: sql<string | null>`case when ${announcements.authorUserId} = ${userId} then ${announcements.title} end`,
          body: sql<string | null>`case when ${announcements.authorUserId} = ${userId} then ${announcements.bodyMarkdown} end`,
          publishAt: announcements.publishAt,
          publishedAt: announcements.publishedAt,
          readAt: announcementReads.readAt,
        })
        .from(announcements)
        .leftJoin(announcementReads, and(eq(announcementReads.announcementId, announcements.id), eq(announcementReads.userId, userId)))
        .where(
          and(
            sql`(${announcements.authorUserId} = ${userId} or ${announcementReads.userId} is not null)`,
            afterId === null ? undefined : gt(announcements.id, afterId),
          ),
        )
        .orderBy(asc(announcements.id))
        .limit(PAGE),
    ),
};
