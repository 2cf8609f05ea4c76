import { EmailClient } from "@azure/communication-email";
import { DefaultAzureCredential } from "@azure/identity";
import nodemailer from "nodemailer";
import type { Mailer } from "../../domain/notifications/email-deliveries.js";
import type { Settings } from "./settings.js";

/** SMTP (nodemailer) or Azure Communication Services Email, by EMAIL_TRANSPORT. */
export function createMailer(s: Settings): Mailer {
  if (s.EMAIL_TRANSPORT === "acs") {
    const client = s.EmailAcs
      ? new EmailClient(s.EmailAcs)
      : new EmailClient(s.EmailAcs__endpoint as string, new DefaultAzureCredential(s.EmailAcs__clientId ? { managedIdentityClientId: s.EmailAcs__clientId } : {}));
    return {
      async send(email) {
        const poller = await client.beginSend({
          senderAddress: s.EMAIL_FROM_ADDRESS,
          content: { subject: email.subject, plainText: email.text, html: email.html },
          recipients: { to: [{ address: email.to }] },
        });
        const result = await poller.pollUntilDone();
        if (result.status !== "Succeeded") throw new Error(`Azure Communication Services answered ${result.status}: ${result.error?.message ?? ""}`);
        return { messageId: result.id };
      },
    };
  }
  const transport = nodemailer.createTransport(s.EmailSmtp as string);
  return {
    async send(email) {
      const info = await transport.sendMail({
        from: { name: s.EMAIL_FROM_NAME, address: s.EMAIL_FROM_ADDRESS },
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        headers: { "X-Ringlet-Template": email.template },
      });
      return { messageId: info.messageId ?? null };
    },
  };
}
