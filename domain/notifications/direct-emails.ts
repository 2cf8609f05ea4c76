import { sql } from "drizzle-orm";
import type { DomainContext } from "../shared/context.js";
import type { ComposedEmail } from "./compose-email.js";
import { recordNotifications } from "./notify.js";
import { categoryOf } from "./preferences.js";

/**
 * Records emails that no event calls for, in the caller's transaction: those that carry a single-use token
 * (verification, password reset, account invitation) and those sent from a step that records its own (leave).
 * Such a token must never travel in an event, which is published to Service Bus and forwarded to webhooks; a
 * delivery row holds it only until it is sent (the bodies are cleared then). Each email is its own delivery (a
 * fresh id stands in for the event id), unless the caller gives a stable `eventId`: then a step that runs again
 * records nothing new. A recipient with an account also gets the inbox entry, without the email's link; never a
 * push or an SMS (account and security mail has no opt-out). Emails whose whole point is their single-use link
 * (`inbox: false`: verification, password reset, invitations, erasure confirmation) are only emailed: an inbox
 * entry without the link says nothing, and recording one would make a known address cost more work than an unknown
 * one where the answer hides which it is (password reset). The ids go to `onEmailsRecorded`, sent after commit.
 */
export async function recordDirectEmails(ctx: DomainContext, emails: ComposedEmail[], options: { eventId?: string; inbox?: boolean } = {}): Promise<string[]> {
  if (emails.length === 0) return [];
  // Without an inbox entry every email goes as to an address without an account: no user is looked up.
  const userIdOf = new Map<string, string>();
  if (options.inbox !== false) {
    const addresses = [...new Set(emails.map((e) => e.to.toLowerCase()))];
    const known = await ctx.db.execute<{ id: string; email: string }>(sql`select id, email from users where email = any(${sql.param(addresses)}::text[]) and erased_at is null`);
    for (const u of known) userIdOf.set(u.email, u.id);
  }
  const { emailIds } = await recordNotifications(
    ctx,
    emails.map((email) => ({
      userId: userIdOf.get(email.to.toLowerCase()) ?? null,
      eventId: options.eventId ?? ctx.newId(),
      template: email.template,
      category: categoryOf(email.template),
      title: email.subject,
      body: email.summary,
      url: null,
      pushAndSms: false,
      email,
    })),
  );
  return emailIds;
}
