import type { AttemptOutcome } from "../../domain/notifications/delivery-queue.js";
import { createLogger, type Logger } from "./log.js";
import type { Platform } from "./platform.js";

// Ids per send call of a drain: a few claims' worth, so memory holds only these rows' bodies.
const DRAIN_SLICE = 100;

/**
 * A per-process backlog of recorded delivery ids (emails, SMS and push messages) handed over after a unit of
 * work's commit, and the one drain that sends them: the caller returns at once (an import's batch records
 * hundreds of invitations; sending them in line held every batch). What the process does not send before it
 * stops, the retry timer sends once the rows are due.
 */
export function deliveryBacklog(component: string, noun: string, send: (p: Platform, log: Logger, scope: { ids: string[] }) => Promise<number>) {
  const backlog: string[] = [];
  let draining = false;
  let processLog: Logger | null = null;
  return (p: Platform, log: Logger, ids: readonly string[]): void => {
    backlog.push(...ids);
    log.debug(`${noun} handed to the sender`, { count: ids.length });
    if (draining) return;
    draining = true;
    // The drain outlives the invocation that started it: it logs through the process's logger, not the caller's
    // (whose invocation context has ended by then).
    const drainLog = (processLog ??= createLogger({ level: p.settings.LOG_LEVEL, fields: { component } }));
    void (async () => {
      try {
        while (backlog.length > 0) {
          const slice = backlog.splice(0, DRAIN_SLICE);
          try {
            await send(p, drainLog, { ids: slice });
          } catch (err) {
            // The database is gone or failing: the rest would fail alike. The rows stay pending for the retry timer.
            const left = slice.length + backlog.splice(0).length;
            drainLog.warn(`sending recorded ${noun} failed; the retry timer sends them`, { left, error: err instanceof Error ? err.message.slice(0, 200) : String(err) });
          }
        }
      } finally {
        draining = false;
      }
    })();
  };
}

/** Logs one attempt's outcome of a delivery (`noun`: "email", "sms", "push"), with the fields that identify it. */
export function logAttemptOutcome<Row, Status extends string>(log: Logger, noun: string, fields: Record<string, unknown>, outcome: AttemptOutcome<Row, Status>): void {
  const { status, attempts, nextAttemptAt, error, recordError } = outcome;
  const all = { ...fields, attempts };
  if (recordError !== undefined) {
    // Sent or not, the row stays pending and is attempted again once its lease ends.
    log.error(`${noun} attempt not recorded; it is attempted again after its lease`, { ...all, sent: error === null, error, err: recordError });
  } else if (status === "sent") {
    log.info(`${noun} sent`, all);
  } else if (status === "pending") {
    log.warn(`${noun} not sent; retried later`, { ...all, error, nextAttemptAt });
  } else if (status === "failed") {
    log.error(`${noun} given up after its last attempt`, { ...all, error });
  } else if (status === "dropped") {
    log.info(`${noun} dropped: its target is gone`, { ...all, error });
  } else {
    log.warn(`${noun} was no longer pending when its attempt was recorded (held past its lease)`, { ...all, error });
  }
}
