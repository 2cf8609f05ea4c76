import type { Actor, DomainContext } from "../../domain/shared/context.js";
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

/**
 * Domain work that opens its own transactions (it calls Blob Storage or a KDF outside them): a domain context on the
 * pool, and after it returns the same after-commit steps as inDomainTransaction.
 */
export async function onDomainPool<T>(p: Platform, actor: Partial<Actor>, fn: (ctx: DomainContext) => Promise<T>, log?: Logger): Promise<T> {
  const effects = new AfterCommit();
  const result = await fn(domainContext(p, p.database.db, actor, effects));
  await effects.run(p, log);
  return result;
}
