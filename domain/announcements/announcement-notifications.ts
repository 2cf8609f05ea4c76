import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import type { EventData } from "../events/catalog.js";
import { composeEmail, isPlaceholderEmail } from "../notifications/compose-email.js";
import type { EmailLinks } from "../notifications/notifications-for-event.js";
import type { NotificationInput } from "../notifications/notify.js";
import { markdownToText } from "../shared/markdown.js";
import { staffCoversSection } from "../sections/staff-scope.js";
import { preview } from "./announcement-rules.js";

/**
 * Who hears of a published announcement, one notification each: the active learners of its course (of its
 * section, when it has one) and the course's staff who see it (scoped staff: a course-wide one or one to their
 * section), but not its author, who wrote it. Recipients come from one query, key-share locked (an erasure runs
 * before or after, see `recordNotifications`); the announcement row is key-share locked too, so a delete waits
 * for this fan-out and then removes what it recorded, and one after the delete finds nothing. Composing is in
 * memory, per recipient, in their language.
 */
export async function announcementNotifications(
  db: Executor,
  eventId: string,
  data: EventData<"announcement.published">,
  appUrl: string,
  links: Pick<EmailLinks, "unsubscribeUrl">,
): Promise<NotificationInput[]> {
  const [a] = await db.execute<{ title: string; body_markdown: string; urgent: boolean; course_id: string; section_id: string | null; author_user_id: string | null; course: string; author: string | null }>(sql`
    select a.title, a.body_markdown, a.urgent, a.course_id, a.section_id, a.author_user_id, c.title as course, au.display_name as author
    from announcements a join courses c on c.id = a.course_id left join users au on au.id = a.author_user_id and au.erased_at is null
    where a.id = ${data.announcementId} and a.published_at is not null
    for key share of a`);
  if (!a) return [];
  const recipients = await db.execute<{ id: string; email: string; name: string; locale: string }>(sql`
    select u.id, u.email, u.display_name as name, u.locale from users u
    where u.erased_at is null and u.id in (
      select e.user_id from enrollments e
      where e.course_id = ${a.course_id} and e.status = 'active' and (${a.section_id}::uuid is null or e.section_id = ${a.section_id}::uuid)
      union
      select s.user_id from course_staff s
      where s.course_id = ${a.course_id} and s.user_id is distinct from ${a.author_user_id}::uuid
        and ${staffCoversSection(sql`s.course_id`, sql`s.user_id`, sql`${a.section_id}::uuid`)})
    for key share of u`);
  const text = markdownToText(a.body_markdown);
  const summary = preview(text);
  const url = `${appUrl.replace(/\/+$/, "")}/courses/${a.course_id}/announcements/${data.announcementId}`;
  const values = { appUrl, course: a.course, title: a.title, body: text, courseId: a.course_id, announcementId: data.announcementId };
  return Promise.all(
    recipients.map(async (u): Promise<NotificationInput> => {
      const author = a.author ?? (u.locale.startsWith("es") ? "El equipo del curso" : "The course staff");
      const email = !isPlaceholderEmail(u.email) ? composeEmail("announcement", u.locale, u.email, { ...values, name: u.name, author }, await links.unsubscribeUrl(u.id, "announcements")) : null;
      return {
        userId: u.id,
        eventId,
        template: "announcement",
        category: "announcements",
        urgent: a.urgent,
        title: a.title,
        body: summary,
        url,
        subject: { type: "announcement", id: data.announcementId },
        email,
      };
    }),
  );
}
