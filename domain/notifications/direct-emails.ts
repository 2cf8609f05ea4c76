import type { DomainContext } from "../shared/context.js";
import type { ComposedEmail } from "./compose-email.js";
import { recordEmails } from "./email-deliveries.js";

/**
 * Records emails that no event calls for, in the caller's transaction: those that carry a single-use token
 * (verification, password reset, account invitation). Such a token must never travel in an event, which is
 * published to Service Bus and forwarded to webhooks; a delivery row holds it only until it is sent (the bodies
 * are cleared then). Each email is its own delivery (a fresh id stands in for the event id), unless the caller
 * gives a stable `eventId`: then a step that runs again records nothing new, as (event id, recipient) is unique.
 * The caller is told the ids (`onEmailsRecorded`) and sends them once it commits; what it does not send, the
 * retry timer does.
 */
export async function recordDirectEmails(ctx: DomainContext, emails: ComposedEmail[], options: { eventId?: string } = {}): Promise<string[]> {
  if (emails.length === 0) return [];
  const ids = await recordEmails(
    ctx,
    emails.map((email) => ({ eventId: options.eventId ?? ctx.newId(), email })),
  );
  if (ids.length > 0) ctx.onEmailsRecorded?.(ids);
  return ids;
}
