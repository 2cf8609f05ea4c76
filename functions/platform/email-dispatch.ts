import { type EmailAttemptOutcome, type EmailSendPolicy, sendDueEmails } from "../../domain/notifications/email-deliveries.js";
import { deliveryBacklog, logAttemptOutcome } from "./delivery-sender.js";
import type { Logger } from "./log.js";
import type { Platform } from "./platform.js";
import type { Settings } from "./settings.js";

// A failed email waits at most this long before its next attempt.
const MAX_RETRY_DELAY_S = 6 * 3600;

export const emailSendPolicy = (s: Settings): EmailSendPolicy => ({
  maxAttempts: s.EMAIL_MAX_ATTEMPTS,
  baseDelaySeconds: s.EMAIL_RETRY_BASE_S,
  maxDelaySeconds: MAX_RETRY_DELAY_S,
  leaseSeconds: s.EMAIL_LEASE_S,
  concurrency: s.EMAIL_SEND_CONCURRENCY,
});

/**
 * Sends recorded emails that are due (claimed first, so never two senders at once) and logs each outcome:
 * after a handler's commit the ones it recorded (`ids`), from the retry timer whatever is due. Runs outside any
 * transaction. Returns how many were attempted.
 */
export async function sendRecordedEmails(p: Platform, log: Logger, scope: { ids?: string[]; maxRounds?: number }): Promise<number> {
  const outcomes = await sendDueEmails({ db: p.database.db, now: p.clock, mailer: p.mailer() }, emailSendPolicy(p.settings), scope);
  for (const outcome of outcomes) logOutcome(log, outcome);
  return outcomes.length;
}

/**
 * Sends emails a unit of work recorded, after its commit, without holding it: the ids join one backlog per process,
 * drained EMAIL_SEND_CONCURRENCY at a time, and the caller returns at once.
 */
export const sendRecordedEmailsSoon = deliveryBacklog("email-sender", "emails", sendRecordedEmails);

function logOutcome(log: Logger, outcome: EmailAttemptOutcome): void {
  const { delivery } = outcome;
  logAttemptOutcome(log, "email", { deliveryId: delivery.id, eventId: delivery.eventId, template: delivery.template, locale: delivery.locale }, outcome);
}
