import { emailsForEvent } from "../../domain/notifications/emails-for-event.js";
import { sendOnce } from "../../domain/notifications/email-deliveries.js";
import { subscriptionHandler } from "../platform/subscription.js";

// The `emails` subscription: renders the email each event calls for, in the recipient's language, and
// sends it once per (event, recipient). A failed send throws, so Service Bus retries the message.
subscriptionHandler({
  name: "send-emails-on-event",
  subscription: "emails",
  handle: async (event, ctx) => {
    const links = { fileDownloadUrl: async (blobName: string, name: string) => (await ctx.platform.files.downloadUrl(blobName, 7 * 86_400, name)).url };
    for (const email of await emailsForEvent(ctx.tx, event, ctx.platform.settings.PUBLIC_APP_URL, links)) {
      const outcome = await sendOnce(ctx.domain, ctx.platform.mailer(), event.id, email);
      ctx.log.info("email", { template: email.template, locale: email.locale, outcome });
    }
  },
});
