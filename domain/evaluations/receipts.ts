import { createHmac } from "node:crypto";

/**
 * "This learner answered this evaluation", without naming them: HMAC-SHA256 under a key only the app holds, so
 * nobody reading the database (or a backup) can tell whose receipt a row is, or test a guess, without the key.
 * Evaluation and user ids are fixed-length uuids, so their concatenation is unambiguous.
 */
export const receiptFor = (key: string, evaluationId: string, userId: string): string =>
  createHmac("sha256", key).update(`${evaluationId}${userId}`).digest("base64url");
