import type { Executor, Transaction } from "../../domain/db/client.js";
import { type Actor, type DomainContext, systemActor } from "../../domain/shared/context.js";
import { createLogger, type Logger } from "./log.js";
import type { Platform } from "./platform.js";
import { forEachBounded } from "../../domain/shared/bounded.js";
import { sendRecordedEmailsSoon } from "./email-dispatch.js";
import { sendRecordedChannelMessagesSoon } from "./channel-dispatch.js";

/** A domain context whose `db` is an open transaction. */
export type TransactionalContext = DomainContext & { db: Transaction };

/** How many after-commit steps (webhook sends, emails) run at once for one unit of work. */
const AFTER_COMMIT_CONCURRENCY = 16;

/**
 * What one unit of domain work leaves to do once it commits: steps that must not hold the transaction
 * (network calls) and, when it wrote outbox events, a relay kick so they leave now rather than at the sweep.
 * Made fresh for every attempt: a rolled-back attempt's steps are dropped with it.
 */
export class AfterCommit {
  #steps: (() => Promise<void>)[] = [];
  #eventsRecorded = false;
  #emailIds: string[] = [];
  #channelIds: string[] = [];

  readonly add = (step: () => Promise<void>): void => {
    this.#steps.push(step);
  };

  readonly eventRecorded = (): void => {
    this.#eventsRecorded = true;
  };

  readonly emailsRecorded = (ids: string[]): void => {
    this.#emailIds.push(...ids);
  };

  readonly channelMessagesRecorded = (ids: string[]): void => {
    this.#channelIds.push(...ids);
  };

  get eventsRecorded(): boolean {
    return this.#eventsRecorded;
  }

  /**
   * Runs the steps (bounded concurrency; a failed step is logged, never thrown), then kicks the relay. Recorded
   * emails, SMS and push messages are handed to the process's senders and not waited for.
   */
  async run(p: Platform, log?: Logger): Promise<void> {
    const steps = this.#steps.splice(0);
    const emailIds = this.#emailIds.splice(0);
    const channelIds = this.#channelIds.splice(0);
    if (emailIds.length > 0 || channelIds.length > 0) {
      const sendLog = log ?? createLogger({ level: p.settings.LOG_LEVEL });
      if (emailIds.length > 0) sendRecordedEmailsSoon(p, sendLog, emailIds);
      if (channelIds.length > 0) sendRecordedChannelMessagesSoon(p, sendLog, channelIds);
    }
    await forEachBounded(steps, AFTER_COMMIT_CONCURRENCY, (step) => step().catch((err: unknown) => log?.warn("after-commit step failed", { err })));
    if (this.#eventsRecorded) p.relay.kick(log);
  }
}

/** The context domain operations take, bound to `db` and reporting recorded events to `effects`. */
export function domainContext<D extends Executor>(p: Platform, db: D, actor: Partial<Actor>, effects: AfterCommit): DomainContext & { db: D } {
  return { db, now: p.clock, newId: p.newId, actor: { ...systemActor, ...actor }, paymentHoldHours: p.settings.PAYMENT_HOLD_HOURS, onEventRecorded: effects.eventRecorded, onEmailsRecorded: effects.emailsRecorded, onChannelMessagesRecorded: effects.channelMessagesRecorded };
}
