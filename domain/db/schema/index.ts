export * from "./outbox.js";
export * from "./inbox.js";
export * from "./idempotency-keys.js";
export * from "./audit-log.js";
