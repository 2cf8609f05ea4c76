import type { Actor } from "../../domain/shared/context.js";
import type { Logger } from "./log.js";
import type { Platform } from "./platform.js";
import { inUnitOfWork, type TransactionalContext } from "./unit-of-work.js";

/**
 * Runs a domain operation for a non-HTTP caller (activity, timer) in one transaction through the shared
 * unit-of-work pipeline, which kicks the relay after commit when the operation wrote events.
 */
export function inDomainTransaction<T>(p: Platform, actor: Partial<Actor>, fn: (ctx: TransactionalContext) => Promise<T>, log?: Logger): Promise<T> {
  return inUnitOfWork(p, actor, (ctx) => fn(ctx), log ? { log } : {});
}
