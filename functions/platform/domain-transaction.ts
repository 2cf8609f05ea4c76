import type { Actor } from "../../domain/shared/context.js";
import type { Logger } from "./log.js";
import type { Platform } from "./platform.js";
import { AfterCommit, domainContext, type TransactionalContext } from "./unit-of-work.js";

/**
 * The one pipeline for domain work outside requests (activities, timers): one transaction, a domain context
 * with the clock, ids and actor, and after commit a relay kick when the operation wrote events. Subscriptions
 * build the same pieces (`domainContext`, `AfterCommit`) around a batch.
 */
export async function inDomainTransaction<T>(p: Platform, actor: Partial<Actor>, fn: (ctx: TransactionalContext) => Promise<T>, log?: Logger): Promise<T> {
  const effects = new AfterCommit();
  const result = await p.database.db.transaction((tx) => fn(domainContext(p, tx, actor, effects)));
  await effects.run(p, log);
  return result;
}
