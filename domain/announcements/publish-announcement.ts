import { sql } from "drizzle-orm";
import { announcements } from "../db/schema/index.js";
import { recordEvents } from "../outbox/record-events.js";
import type { DomainContext } from "../shared/context.js";

/**
 * Publishes unpublished announcements now, in the caller's transaction: `published_at` is set together with the
 * `announcement.published` event (ids only: events reach webhooks), and only where it was still unset, so an
 * announcement is published once however many callers race (the caller holds the rows locked).
 */
export async function publishAnnouncements(ctx: DomainContext, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const now = ctx.now();
  const rows = await ctx.db.execute<{ id: string; course_id: string; section_id: string | null }>(sql`
    update ${announcements} set published_at = ${now.toISOString()}::timestamptz, updated_at = ${now.toISOString()}::timestamptz
    where id = any(${sql.param([...ids])}::uuid[]) and published_at is null
    returning id, course_id, section_id`);
  await recordEvents(
    ctx,
    rows.map((r) => ({
      type: "announcement.published" as const,
      aggregateType: "announcement",
      aggregateId: r.id,
      courseId: r.course_id,
      data: { announcementId: r.id, courseId: r.course_id, sectionId: r.section_id, publishedAt: now.toISOString() },
    })),
  );
  return rows.map((r) => r.id);
}

/**
 * The announcements timer's work: publishes every due announcement, a batch per transaction. Rows are taken
 * `for update skip locked`, so two timers running at once share the work and each announcement is published once.
 */
export async function publishDueAnnouncements(ctx: DomainContext, batchSize = 200): Promise<{ published: number }> {
  let published = 0;
  for (;;) {
    const count = await ctx.db.transaction(async (tx) => {
      const due = await tx.execute<{ id: string }>(sql`
        select id from ${announcements} where published_at is null and publish_at <= ${ctx.now().toISOString()}::timestamptz
        order by publish_at limit ${batchSize} for update skip locked`);
      return (await publishAnnouncements({ ...ctx, db: tx }, due.map((r) => r.id))).length;
    });
    published += count;
    if (count < batchSize) return { published };
  }
}
