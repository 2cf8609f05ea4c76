import { type EmailLinks, notificationsForEvent } from "../../domain/notifications/notifications-for-event.js";
import { type NotificationInput, recordNotifications } from "../../domain/notifications/notify.js";
import { financeDocumentLinks } from "../platform/finance-document-links.js";
import { subscriptionHandler } from "../platform/subscription.js";
import { emailUnsubscribeLinks } from "../platform/unsubscribe-links.js";

// The `emails` subscription (every notification, not only email): composes what a batch of events calls for, in
// each recipient's language, and records it in the inbox transaction: the inbox rows, and one email, push and SMS
// delivery per (event, recipient, channel) as each recipient's preferences say. They are sent once that commits,
// never while it holds its connection; what is not sent then (a crash, a server down) the retry timers send.
subscriptionHandler({
  name: "send-emails-on-event",
  subscription: "emails",
  handleMany: async (events, ctx) => {
    const links: EmailLinks = {
      fileDownloadUrl: async (blobName, name) => (await ctx.platform.files.downloadUrl(blobName, 7 * 86_400, name)).url,
      ...(await emailUnsubscribeLinks(ctx.platform.settings)),
      financeDocumentUrl: (await financeDocumentLinks(ctx.platform.settings)).url,
    };
    const notices: NotificationInput[] = [];
    for (const event of events) notices.push(...(await notificationsForEvent(ctx.tx, event, ctx.platform.settings.PUBLIC_APP_URL, links)));
    if (notices.length === 0) return;
    await recordNotifications(ctx.domain(events[0] as (typeof events)[number]), notices);
  },
});
