import { v7 as uuidv7 } from "uuid";
import type { DomainContext } from "../../domain/shared/context.js";
import { createTestDatabase, type TestDatabase } from "./database.js";

/** A fresh migrated database and a domain context over it, for domain tests (the clock is the real one). */
export async function openDomainDatabase(): Promise<{ db: TestDatabase; ctx: DomainContext }> {
  const db = await createTestDatabase();
  return { db, ctx: { db: db.db, now: () => new Date(), newId: uuidv7, actor: { userId: null, requestId: "test", clientIp: null, traceparent: null } } };
}

/** Runs `fn` with the context moved into a transaction of its database, as the edge runs a use case. */
export function inTransactionOf(db: TestDatabase, ctx: DomainContext) {
  return <T>(fn: (tx: DomainContext) => Promise<T>): Promise<T> => db.db.transaction((tx) => fn({ ...ctx, db: tx }));
}

/** The erasure's keys in domain tests (a receipt key of the length settings ask for). */
export const testErasureKeys = { evaluationReceiptKey: "domain-tests-evaluation-receipt-key-0123456789" };
