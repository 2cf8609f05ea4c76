import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { composeEmail, isPlaceholderEmail } from "../notifications/compose-email.js";
import type { NotificationInput } from "../notifications/notify.js";
import type { EmailLinks } from "../notifications/notifications-for-event.js";
import { markdownToText } from "../shared/markdown.js";
import { isCourseMemberSql } from "./members.js";

const EXCERPT_MAX = 200;

/**
 * Who hears of a new post, in one query: the members it mentions (`discussion-mention`, once, even when they
 * follow the topic too) and the topic's followers (`discussion-reply`), never its author, and only members who
 * still take part in the course and may see it (a hidden topic: its staff). Nothing for a post or topic removed
 * or hidden by then. The recipients' rows are key-share locked until the notifications are recorded (erasure).
 */
export async function discussionPostNotifications(
  db: Executor,
  event: { id: string; data: { postId: string; topicId: string; courseId: string } },
  appUrl: string,
  links: Pick<EmailLinks, "unsubscribeUrl">,
): Promise<NotificationInput[]> {
  const { postId, topicId, courseId } = event.data;
  const [post] = await db.execute<{ body: string; author_id: string | null; author_name: string | null; title: string; course: string; topic_hidden: boolean }>(sql`
    select p.body_markdown as body, p.author_user_id as author_id, a.display_name as author_name, t.title, c.title as course, t.hidden as topic_hidden
    from discussion_posts p join discussion_topics t on t.id = p.topic_id join courses c on c.id = p.course_id
    left join users a on a.id = p.author_user_id
    where p.id = ${postId} and p.deleted_at is null and not p.hidden and t.deleted_at is null`);
  if (!post) return [];
  const recipients = await db.execute<{ id: string; email: string; name: string; locale: string; mentioned: boolean }>(sql`
    select u.id, u.email, u.display_name as name, u.locale, exists (select 1 from discussion_mentions m where m.post_id = ${postId} and m.user_id = u.id) as mentioned
    from users u
    where u.id in (select user_id from discussion_mentions where post_id = ${postId} union select user_id from discussion_subscriptions where topic_id = ${topicId})
      and u.id is distinct from ${post.author_id}::uuid and u.erased_at is null
      and ${isCourseMemberSql(courseId, sql`u.id`)}
      ${post.topic_hidden ? sql`and (u.is_admin or exists (select 1 from course_staff s where s.course_id = ${courseId} and s.user_id = u.id))` : sql``}
    for key share of u`);
  const text = markdownToText(post.body);
  const values = {
    appUrl,
    topic: post.title,
    topicId,
    course: post.course,
    author: post.author_name ?? "Someone",
    excerpt: text.length <= EXCERPT_MAX ? text : `${text.slice(0, EXCERPT_MAX - 1)}…`,
  };
  return Promise.all(
    recipients.map(async (r): Promise<NotificationInput> => {
      const template = r.mentioned ? "discussion-mention" : "discussion-reply";
      const email = composeEmail(template, r.locale, r.email, { ...values, name: r.name }, await links.unsubscribeUrl(r.id, "discussions"));
      return {
        userId: r.id,
        eventId: event.id,
        template,
        category: "discussions",
        title: email.subject,
        body: email.summary,
        url: email.actionUrl,
        // The post it is about: erasing its author (or the topic's) finds the entries quoting them by id.
        subject: { type: "discussion-post", id: postId },
        // External users without a known address have a placeholder one: the inbox still has it.
        email: isPlaceholderEmail(r.email) ? null : email,
      };
    }),
  );
}
