import { recordEmails } from "../../domain/notifications/email-deliveries.js";
import { type EmailLinks, emailsForEvent } from "../../domain/notifications/emails-for-event.js";
import type { ComposedEmail } from "../../domain/notifications/compose-email.js";
import { sendRecordedEmails } from "../platform/email-dispatch.js";
import { subscriptionHandler } from "../platform/subscription.js";
import { unsubscribeLinks } from "../platform/unsubscribe-links.js";

// The `emails` subscription: renders the emails a batch of events calls for, in each recipient's language, and
// records one per (event, recipient) in the inbox transaction; they are sent once that commits, never while it
// holds its connection. What is not sent then (a crash, a mail server down) is sent by the email-retries timer.
subscriptionHandler({
  name: "send-emails-on-event",
  subscription: "emails",
  handleMany: async (events, ctx) => {
    const unsubscribe = await unsubscribeLinks(ctx.platform.settings);
    const links: EmailLinks = {
      fileDownloadUrl: async (blobName, name) => (await ctx.platform.files.downloadUrl(blobName, 7 * 86_400, name)).url,
      unsubscribeUrl: (userId, category) => unsubscribe.url(userId, category),
    };
    const emails: { eventId: string; email: ComposedEmail }[] = [];
    for (const event of events) {
      for (const email of await emailsForEvent(ctx.tx, event, ctx.platform.settings.PUBLIC_APP_URL, links)) emails.push({ eventId: event.id, email });
    }
    if (emails.length === 0) return;
    const ids = await recordEmails(ctx.domain(events[0] as (typeof events)[number]), emails);
    if (ids.length > 0) ctx.afterCommit(() => sendRecordedEmails(ctx.platform, ctx.log, { ids }).then(() => undefined));
  },
});
