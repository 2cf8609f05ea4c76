export * from "./outbox.js";
export * from "./inbox.js";
export * from "./idempotency-keys.js";
export * from "./audit-log.js";
export * from "./users.js";
export * from "./courses.js";
export * from "./content.js";
export * from "./enrollments.js";
