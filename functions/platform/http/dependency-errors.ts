import type { ProblemCode } from "./problem-codes.js";

/** What a database error means for the caller: their request's fault (4xx), a busy or absent database (503), or a bug. */
export type DatabaseFault = { kind: "caller"; code: ProblemCode; detail: string } | { kind: "unavailable"; detail: string } | undefined;

// postgres.js reports a lost or refused connection with these codes (no SQLSTATE: the server never answered).
const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN", "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED"]);

/**
 * Classifies an error thrown by a query (or its `cause`, as Drizzle wraps them). SQLSTATE classes: 08
 * connection exception, 57P0x shutdown/cannot connect now, 53 insufficient resources, 55P03 lock not
 * available, 57014 statement timeout, 40001/40P01 serialization failure/deadlock (retryable), 23 integrity
 * constraint violation, 22 data exception.
 */
export function classifyDatabaseError(err: unknown): DatabaseFault {
  const e = sqlError(err);
  if (!e?.code) return undefined;
  const code = e.code;
  if (CONNECTION_CODES.has(code) || code.startsWith("08") || code.startsWith("57P0") || code.startsWith("53")) return { kind: "unavailable", detail: "The database cannot be reached right now; retry shortly." };
  if (code === "55P03" || code === "57014" || code === "40001" || code === "40P01") return { kind: "unavailable", detail: "The service is busy; retry shortly." };
  if (code === "23505") return { kind: "caller", code: "CONFLICT", detail: "This conflicts with an existing record." };
  if (code === "23503") return { kind: "caller", code: "CONFLICT", detail: "This refers to a record that does not exist, or one that others still refer to." };
  if (code.startsWith("23")) return { kind: "caller", code: "UNPROCESSABLE", detail: "This breaks a rule the data must keep." };
  if (code.startsWith("22")) return { kind: "caller", code: "VALIDATION_FAILED", detail: "A value in the request cannot be stored (out of range, too long or not valid text)." };
  return undefined;
}

function sqlError(err: unknown): { code?: string } | undefined {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return { code };
  }
  return undefined;
}
