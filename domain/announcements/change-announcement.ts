import { and, eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import { announcements, channelDeliveries, emailDeliveries, notifications, outbox } from "../db/schema/index.js";
import type { CourseViewer } from "../catalog/viewer.js";
import type { DomainContext } from "../shared/context.js";
import { markdownToText, renderMarkdown } from "../shared/markdown.js";
import { fail, ok, type Result } from "../shared/result.js";
import { checkBody, checkPublishAt, preview } from "./announcement-rules.js";
import { announcementColumns, type AnnouncementRow, type AnnouncementView, audienceOf, inAudience } from "./announcement-view.js";
import type { AnnouncementErrorCode } from "./announcements.errors.js";
import { checkAudience } from "./post-announcement.js";
import { publishAnnouncements } from "./publish-announcement.js";

export interface AnnouncementChange {
  title?: string;
  body?: string;
  sectionId?: string | null;
  publishAt?: Date;
  urgent?: boolean;
}

/**
 * The announcement locked for a change by staff member `viewer`: not found when they do not see it, out of scope
 * when a section-scoped instructor sees it but it is not addressed to one of their sections, and precondition
 * failed when `expectedVersion` (the If-Match) is not the stored one.
 */
async function lockForChange(ctx: DomainContext, id: string, viewer: CourseViewer, expectedVersion: number | undefined): Promise<Result<AnnouncementRow, AnnouncementErrorCode>> {
  const [found] = await ctx.db.select(announcementColumns).from(announcements).where(eq(announcements.id, id)).for("update");
  const audience = found ? await audienceOf(ctx.db, found.courseId, viewer) : null;
  if (!found || !audience?.staff) return fail("ANNOUNCEMENT_NOT_FOUND");
  if (!inAudience(audience, found)) return fail("ANNOUNCEMENT_NOT_FOUND");
  if (audience.sectionIds !== null && found.sectionId === null) return fail("SECTION_OUT_OF_SCOPE", "Only instructors of the whole course change its course-wide announcements.");
  if (expectedVersion !== undefined && expectedVersion !== found.version) return fail("PRECONDITION_FAILED", "Read the announcement again and retry with its current ETag.");
  return ok(found);
}

/**
 * Changes an announcement. Until it is published everything may change (a publish time now or just past
 * publishes it now); afterwards only corrections of title and body, which reach its inbox entries but notify
 * nobody again.
 */
export async function changeAnnouncement(
  ctx: DomainContext,
  id: string,
  change: AnnouncementChange,
  viewer: CourseViewer,
  expectedVersion: number | undefined,
): Promise<Result<AnnouncementView, AnnouncementErrorCode>> {
  const locked = await lockForChange(ctx, id, viewer, expectedVersion);
  if (!locked.ok) return locked;
  const current = locked.value;
  if (change.body !== undefined) {
    const body = checkBody(change.body);
    if (!body.ok) return body;
  }
  const now = ctx.now();
  const next: Partial<typeof announcements.$inferInsert> = { version: current.version + 1, updatedAt: now };
  if (change.title !== undefined) next.title = change.title;
  if (change.body !== undefined) Object.assign(next, { bodyMarkdown: change.body, bodyHtml: renderMarkdown(change.body) });
  if (current.publishedAt) {
    const moved =
      (change.sectionId !== undefined && change.sectionId !== current.sectionId) ||
      (change.urgent !== undefined && change.urgent !== current.urgent) ||
      (change.publishAt !== undefined && change.publishAt.getTime() !== current.publishAt.getTime());
    if (moved) return fail("ANNOUNCEMENT_PUBLISHED", "A published announcement keeps its audience, time and urgency; only its title and body can be corrected.");
  } else {
    if (change.sectionId !== undefined && change.sectionId !== current.sectionId) {
      const audience = await checkAudience(ctx.db, current.courseId, change.sectionId, viewer);
      if (!audience.ok) return audience;
      next.sectionId = change.sectionId;
    }
    if (change.publishAt !== undefined) {
      const publishAt = checkPublishAt(change.publishAt, now);
      if (!publishAt.ok) return publishAt;
      next.publishAt = publishAt.value;
    }
    if (change.urgent !== undefined) next.urgent = change.urgent;
  }
  await ctx.db.update(announcements).set(next).where(eq(announcements.id, id));
  if (!current.publishedAt && (next.publishAt ?? current.publishAt).getTime() <= now.getTime()) await publishAnnouncements(ctx, [id]);
  if (current.publishedAt && (change.title !== undefined || change.body !== undefined)) {
    const title = next.title ?? current.title;
    const body = preview(markdownToText(next.bodyMarkdown ?? current.bodyMarkdown));
    // The inbox shows the corrected text; nobody is notified again.
    await ctx.db
      .update(notifications)
      .set({ title, body })
      .where(and(eq(notifications.subjectType, "announcement"), eq(notifications.subjectId, id)));
  }
  const [row] = await ctx.db.select(announcementColumns).from(announcements).where(eq(announcements.id, id));
  return ok({ ...(row as AnnouncementRow), read: false });
}

/**
 * Deletes an announcement (audited) with its inbox entries and its emails, push and SMS messages not sent yet. The
 * fan-out reads the announcement key-share locked, so a delete waits for a fan-out under way and then removes
 * what it recorded; a fan-out after the delete finds nothing to send.
 */
export async function deleteAnnouncement(ctx: DomainContext, id: string, viewer: CourseViewer, expectedVersion: number | undefined): Promise<Result<null, AnnouncementErrorCode>> {
  const locked = await lockForChange(ctx, id, viewer, expectedVersion);
  if (!locked.ok) return locked;
  const a = locked.value;
  await ctx.db.delete(announcements).where(eq(announcements.id, id));
  const removed = await ctx.db.execute<{ event_id: string }>(sql`
    delete from ${notifications} where subject_type = 'announcement' and subject_id = ${id} returning event_id`);
  // Its events: those its inbox entries came from, and its publication event (also when nobody had an entry).
  const published = await ctx.db.execute<{ id: string }>(sql`select id from ${outbox} where aggregate_type = 'announcement' and aggregate_id = ${id}`);
  const eventIds = [...new Set([...removed.map((r) => r.event_id), ...published.map((r) => r.id)])];
  if (eventIds.length > 0) {
    // What is not sent yet (first attempt or a retry) would still tell people of an announcement that is gone.
    await ctx.db.delete(channelDeliveries).where(and(sql`${channelDeliveries.eventId} = any(${sql.param(eventIds)}::uuid[])`, eq(channelDeliveries.status, "pending")));
    await ctx.db.delete(emailDeliveries).where(and(sql`${emailDeliveries.eventId} = any(${sql.param(eventIds)}::uuid[])`, eq(emailDeliveries.status, "pending")));
  }
  await recordAudit(ctx, {
    action: "announcement.deleted",
    targetType: "announcement",
    targetId: id,
    details: { courseId: a.courseId, sectionId: a.sectionId, title: a.title, published: a.publishedAt !== null, inboxEntriesRemoved: removed.length },
  });
  return ok(null);
}

/** Marks an announcement the viewer sees read (again: no change), and its inbox entry with it. */
export async function markAnnouncementRead(ctx: DomainContext, id: string, viewer: CourseViewer): Promise<Result<null, "ANNOUNCEMENT_NOT_FOUND">> {
  // Only a published one is read; `key share` keeps it from being deleted under the insert.
  const [row] = await ctx.db
    .select({ courseId: announcements.courseId, sectionId: announcements.sectionId, publishedAt: announcements.publishedAt })
    .from(announcements)
    .where(eq(announcements.id, id))
    .for("key share");
  const audience = row ? await audienceOf(ctx.db, row.courseId, viewer) : null;
  if (!row || !audience || !inAudience(audience, row)) return fail("ANNOUNCEMENT_NOT_FOUND");
  if (!row.publishedAt) return ok(null);
  const now = ctx.now();
  await ctx.db.execute(sql`insert into announcement_reads (announcement_id, user_id, read_at) values (${id}, ${viewer.userId}, ${now.toISOString()}::timestamptz) on conflict do nothing`);
  await ctx.db
    .update(notifications)
    .set({ readAt: now })
    .where(and(eq(notifications.userId, viewer.userId), eq(notifications.subjectType, "announcement"), eq(notifications.subjectId, id), sql`${notifications.readAt} is null`));
  return ok(null);
}
