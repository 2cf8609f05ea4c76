import { DrizzleQueryError } from "drizzle-orm";
import type { ProblemCode } from "./problem-codes.js";

export type Dependency = "postgres" | "blob" | "cosmos" | "service-bus" | "unknown";

/**
 * What an error from a backing service means for the caller: their request's fault (4xx), a dependency that
 * is down or busy for now (503 with Retry-After; a worker retries later), or — undefined — a bug.
 */
export type DependencyFault = { kind: "caller"; code: ProblemCode; detail: string } | { kind: "unavailable"; dependency: Dependency; detail: string } | undefined;

// A socket that could not be opened, or was lost, before any answer: no SQLSTATE, no HTTP status.
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ESOCKETTIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ECONNABORTED"]);
// postgres.js's own codes for a connection that could not be made or was lost.
const POSTGRES_CONNECTION_CODES = new Set(["CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED"]);
// HTTP statuses that say "not now" rather than "not this request" (449: Cosmos DB's "retry with").
const TRANSIENT_STATUSES = new Set([408, 429, 449, 500, 502, 503, 504]);
// Service Bus reasons that pass with time (GeneralError is what a refused connection becomes); the others
// (entity not found, unauthorized, message too large) are faults of ours.
const TRANSIENT_BUS_CODES = new Set(["ServiceBusy", "ServiceTimeout", "ServiceCommunicationProblem", "GeneralError"]);

const unreachable = {
  postgres: "The database cannot be reached right now; retry shortly.",
  blob: "File storage cannot be reached right now; retry shortly.",
  cosmos: "The activity store cannot be reached right now; retry shortly.",
  "service-bus": "The message broker cannot be reached right now; retry shortly.",
  unknown: "A service this request needs cannot be reached right now; retry shortly.",
} satisfies Record<Dependency, string>;

const down = (dependency: Dependency): DependencyFault => ({ kind: "unavailable", dependency, detail: unreachable[dependency] });
const busy = (dependency: Dependency): DependencyFault => ({ kind: "unavailable", dependency, detail: "The service is busy; retry shortly." });

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  retryable?: unknown;
  request?: { url?: unknown };
  headers?: unknown;
  cause?: unknown;
}

/**
 * The one place that tells what a failure of PostgreSQL, Blob Storage, Cosmos DB or Service Bus means, for
 * requests (a problem answer) and workers (retry later or not). Looks at the error and its `cause`s, as
 * Drizzle and the SDKs wrap them.
 */
export function classifyDependencyError(err: unknown): DependencyFault {
  let viaDrizzle = false;
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; e = (e as ErrorShape).cause, depth++) {
    if (e instanceof DrizzleQueryError) viaDrizzle = true;
    const fault = classifyOne(e as ErrorShape, viaDrizzle);
    if (fault) return fault;
  }
  return undefined;
}

function classifyOne(e: ErrorShape, viaDrizzle: boolean): DependencyFault {
  const { code, name } = e;
  if (name === "ServiceBusError" || name === "MessagingError") {
    return e.retryable === true || (typeof code === "string" && TRANSIENT_BUS_CODES.has(code)) ? down("service-bus") : undefined;
  }
  // @azure/core-rest-pipeline's error, which the Blob and Cosmos SDKs share: no status means no answer at all.
  if (name === "RestError") {
    const dependency = restDependency(e);
    if (e.statusCode === undefined) return code === "PARSE_ERROR" ? undefined : down(dependency);
    return statusFault(e.statusCode, dependency);
  }
  // @azure/cosmos's own errors: ErrorResponse (the status as a numeric `code`, the service's headers) and TimeoutError.
  if (name === "TimeoutError" && code === "TimeoutError") return down("cosmos");
  if (typeof code === "number" && e.headers && typeof e.headers === "object") return statusFault(code, "cosmos");
  if (typeof code !== "string") return undefined;
  if (POSTGRES_CONNECTION_CODES.has(code)) return down("postgres");
  // A bare socket error: postgres.js passes its own through as it is (the HTTP and AMQP SDKs wrap theirs),
  // but outside a Drizzle query (a transaction's begin, say) nothing says which server it was.
  if (NETWORK_CODES.has(code)) return down(viaDrizzle ? "postgres" : "unknown");
  return sqlStateFault(code);
}

function statusFault(status: unknown, dependency: Dependency): DependencyFault {
  if (typeof status !== "number" || !TRANSIENT_STATUSES.has(status)) return undefined;
  return status === 429 ? busy(dependency) : down(dependency);
}

/**
 * SQLSTATE classes: 08 connection exception, 57P0x shutdown/cannot connect now, 53 insufficient resources,
 * 55P03 lock not available, 57014 statement timeout, 40001/40P01 serialization failure/deadlock (retryable),
 * 23 integrity constraint violation, 22 data exception.
 */
function sqlStateFault(code: string): DependencyFault {
  if (!/^[0-9A-Z]{5}$/.test(code)) return undefined;
  if (code.startsWith("08") || code.startsWith("57P0") || code.startsWith("53")) return down("postgres");
  if (code === "55P03" || code === "57014" || code === "40001" || code === "40P01") return busy("postgres");
  if (code === "23505") return { kind: "caller", code: "CONFLICT", detail: "This conflicts with an existing record." };
  if (code === "23503") return { kind: "caller", code: "CONFLICT", detail: "This refers to a record that does not exist, or one that others still refer to." };
  if (code.startsWith("23")) return { kind: "caller", code: "UNPROCESSABLE", detail: "This breaks a rule the data must keep." };
  if (code.startsWith("22")) return { kind: "caller", code: "VALIDATION_FAILED", detail: "A value in the request cannot be stored (out of range, too long or not valid text)." };
  return undefined;
}

/** Cosmos DB resource paths start at /dbs (or are the account root); everything else here is Blob Storage. */
function restDependency(e: ErrorShape): Dependency {
  const url = typeof e.request?.url === "string" ? e.request.url : undefined;
  if (!url) return "unknown";
  const path = new URL(url).pathname;
  return path === "/" || path.startsWith("/dbs") ? "cosmos" : "blob";
}
