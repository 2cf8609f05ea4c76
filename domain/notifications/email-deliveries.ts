import { and, eq } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { emailDeliveries } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import type { ComposedEmail } from "./compose-email.js";

/** Sends email; the domain does not care whether through SMTP or Azure Communication Services. */
export interface Mailer {
  send(email: ComposedEmail): Promise<{ messageId: string | null }>;
}

export async function alreadySent(db: Executor, eventId: string, recipient: string): Promise<boolean> {
  const [row] = await db
    .select({ id: emailDeliveries.id })
    .from(emailDeliveries)
    .where(and(eq(emailDeliveries.eventId, eventId), eq(emailDeliveries.recipient, recipient), eq(emailDeliveries.status, "sent")));
  return row !== undefined;
}

/**
 * Sends the email once per (event, recipient): a recipient already sent to is skipped, and the record of
 * the sending commits with the inbox row. A failed send throws, so the message is retried.
 */
export async function sendOnce(ctx: DomainContext, mailer: Mailer, eventId: string, email: ComposedEmail): Promise<"sent" | "skipped"> {
  const recipient = email.to.toLowerCase();
  if (await alreadySent(ctx.db, eventId, recipient)) return "skipped";
  const { messageId } = await mailer.send(email);
  const now = ctx.now();
  await ctx.db
    .insert(emailDeliveries)
    .values({
      id: ctx.newId(),
      eventId,
      recipient,
      template: email.template,
      locale: email.locale,
      subject: email.subject,
      status: "sent",
      providerMessageId: messageId,
      sentAt: now,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing();
  return "sent";
}
