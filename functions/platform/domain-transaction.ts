import type { Transaction } from "../../domain/db/client.js";
import { type Actor, type DomainContext, systemActor } from "../../domain/shared/context.js";
import type { Logger } from "./log.js";
import type { Platform } from "./platform.js";

/**
 * Runs a domain operation for a non-HTTP caller (activity, timer) in one transaction, then asks the relay
 * to publish whatever events it wrote, so they leave at once rather than at the next sweep.
 */
export async function inDomainTransaction<T>(p: Platform, actor: Partial<Actor>, fn: (ctx: DomainContext & { db: Transaction }) => Promise<T>, log?: Logger): Promise<T> {
  let published = false;
  const result = await p.database.db.transaction((tx) =>
    fn({ db: tx, now: p.clock, newId: p.newId, actor: { ...systemActor, ...actor }, onEventRecorded: () => (published = true) }),
  );
  if (published) await p.relay.publishPending({ maxBatches: 2, ...(log ? { log } : {}) });
  return result;
}
