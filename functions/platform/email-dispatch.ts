import { type EmailAttemptOutcome, type EmailSendPolicy, sendDueEmails } from "../../domain/notifications/email-deliveries.js";
import { createLogger, type Logger } from "./log.js";
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

// Ids handed over after commit and not yet sent, and the one drain that sends them (per process).
const backlog: string[] = [];
let draining = false;
// Ids per sendRecordedEmails call of the drain: a few claims' worth, so memory holds only these rows' bodies.
const DRAIN_SLICE = 100;

/**
 * Sends emails a unit of work recorded, after its commit, without holding it: the ids join one backlog per process,
 * drained EMAIL_SEND_CONCURRENCY at a time, and the caller returns at once (an import's batch records hundreds of
 * invitations; sending them in line held every batch for SMTP). What the process does not send before it stops,
 * the retry timer sends once the rows are due.
 */
export function sendRecordedEmailsSoon(p: Platform, log: Logger, ids: readonly string[]): void {
  backlog.push(...ids);
  log.debug("emails handed to the sender", { count: ids.length });
  if (draining) return;
  draining = true;
  // The drain outlives the invocation that started it: it logs through the process's logger, not the caller's
  // (whose invocation context has ended by then).
  const drainLog = senderLog(p);
  void (async () => {
    try {
      while (backlog.length > 0) {
        const slice = backlog.splice(0, DRAIN_SLICE);
        try {
          await sendRecordedEmails(p, drainLog, { ids: slice });
        } catch (err) {
          // The database is gone or failing: the rest would fail alike. The rows stay pending for the retry timer.
          const left = slice.length + backlog.splice(0).length;
          drainLog.warn("sending recorded emails failed; the retry timer sends them", { left, error: err instanceof Error ? err.message.slice(0, 200) : String(err) });
        }
      }
    } finally {
      draining = false;
    }
  })();
}

let processLog: Logger | null = null;
const senderLog = (p: Platform): Logger => (processLog ??= createLogger({ level: p.settings.LOG_LEVEL, fields: { component: "email-sender" } }));

function logOutcome(log: Logger, { delivery, status, attempts, nextAttemptAt, error, recordError }: EmailAttemptOutcome): void {
  const fields = { deliveryId: delivery.id, eventId: delivery.eventId, template: delivery.template, locale: delivery.locale, attempts };
  if (recordError !== undefined) {
    // Sent or not, the row stays pending and is attempted again once its lease ends.
    log.error("email attempt not recorded; it is attempted again after its lease", { ...fields, sent: error === null, error, err: recordError });
  } else if (status === "sent") {
    log.info("email sent", fields);
  } else if (status === "pending") {
    log.warn("email not sent; retried later", { ...fields, error, nextAttemptAt });
  } else if (status === "failed") {
    log.error("email given up after its last attempt", { ...fields, error });
  } else {
    log.warn("email was no longer pending when its attempt was recorded (held past its lease)", { ...fields, error });
  }
}
