import type { Transporter } from "nodemailer";
import type { Mailer } from "../../domain/notifications/email-deliveries.js";
import { defaultAzureCredential } from "./azure-credential.js";
import { lazy } from "./lazy.js";
import type { Settings } from "./settings.js";

/** A mailer the platform can close at shutdown (the SMTP pool's connections). */
export interface ClosableMailer extends Mailer {
  close(): void;
}

/**
 * SMTP (nodemailer) or Azure Communication Services Email, by EMAIL_TRANSPORT. Sends run after the handler's
 * commit (domain/notifications/email-deliveries.ts), never inside a transaction. The SDK loads with the first send,
 * not with the app: most instances send no email.
 */
export function createMailer(s: Settings): ClosableMailer {
  if (s.EMAIL_TRANSPORT === "acs") {
    const client = lazy(() =>
      import("@azure/communication-email").then(({ EmailClient }) =>
        s.EmailAcs ? new EmailClient(s.EmailAcs) : new EmailClient(s.EmailAcs__endpoint as string, defaultAzureCredential(s.EmailAcs__clientId)),
      ),
    );
    return {
      async send(email) {
        const poller = await (await client()).beginSend({
          senderAddress: s.EMAIL_FROM_ADDRESS,
          content: { subject: email.subject, plainText: email.text, html: email.html },
          recipients: { to: [{ address: email.to }] },
          ...(email.headers ? { headers: email.headers } : {}),
        });
        const result = await poller.pollUntilDone();
        if (result.status !== "Succeeded") throw new Error(`Azure Communication Services answered ${result.status}: ${result.error?.message ?? ""}`);
        return { messageId: result.id };
      },
      close() {},
    };
  }
  // Pooled: a burst reuses a few open connections instead of a connection (and EHLO) per email. A server that
  // stops answering fails the send within a quarter of the lease, so the claim still holds when it is recorded.
  const timeoutMs = Math.floor((s.EMAIL_LEASE_S * 1000) / 4);
  let transport: Transporter | undefined;
  const open = lazy(() =>
    import("nodemailer").then(({ default: nodemailer }) =>
      (transport = nodemailer.createTransport({
        url: s.EmailSmtp as string,
        pool: true,
        maxConnections: s.EMAIL_SEND_CONCURRENCY,
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      })),
    ),
  );
  return {
    async send(email) {
      const info = await (await open()).sendMail({
        from: { name: s.EMAIL_FROM_NAME, address: s.EMAIL_FROM_ADDRESS },
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        // List-Unsubscribe and List-Unsubscribe-Post go as headers of their own: nodemailer's `list` option would
        // add a second List-Unsubscribe and cannot write List-Unsubscribe-Post.
        headers: { "X-Ringlet-Template": email.template, ...email.headers },
      });
      return { messageId: info.messageId ?? null };
    },
    close() {
      transport?.close();
    },
  };
}
