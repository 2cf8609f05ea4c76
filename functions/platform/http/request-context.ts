import { isIP } from "node:net";
import type { HttpRequest, InvocationContext } from "@azure/functions";
import { createLogger, type Logger } from "../log.js";
import type { Settings } from "../settings.js";
import { childTrace, parseTraceparent, type TraceContext } from "../trace-context.js";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestMeta {
  requestId: string;
  trace: TraceContext;
  clientIp: string | null;
  log: Logger;
}

/**
 * Request id (the client's `x-request-id` when it is sane, else the invocation id) and the W3C trace
 * context (the caller's `traceparent`, else the host's, else a new trace), carried into every later hop.
 */
export function requestMeta(request: HttpRequest, context: InvocationContext, s: Settings): RequestMeta {
  const given = request.headers.get("x-request-id");
  const requestId = given && REQUEST_ID.test(given) ? given : context.invocationId;
  const parent = parseTraceparent(request.headers.get("traceparent")) ?? parseTraceparent(context.traceContext?.traceParent);
  const trace = childTrace(parent);
  const clientIp = clientAddress(request.headers.get("x-forwarded-for"), s.TRUSTED_PROXY_HOPS);
  const log = createLogger({
    level: s.LOG_LEVEL,
    context,
    fields: { requestId, traceparent: trace.traceparent, function: context.functionName, invocationId: context.invocationId },
  });
  return { requestId, trace, clientIp, log };
}

/**
 * The address the outermost trusted proxy saw: `hops` entries from the right of X-Forwarded-For. A client can
 * write the header, but each trusted proxy appends to it, so entries left of that one are the client's to forge
 * (taking the first would let a client rotating the header escape the per-address sign-in throttle). Anything
 * that is not an IP address is no address.
 */
export function clientAddress(header: string | null, hops: number): string | null {
  if (!header) return null;
  const entries = header.split(",");
  if (entries.length < hops) return null;
  const address = withoutPort((entries[entries.length - hops] as string).trim());
  return isIP(address) ? address : null;
}

/** Azure appends the port to the client address (`1.2.3.4:5678`, `[::1]:5678`); keep the address only. */
export function withoutPort(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed?.[1]) return bracketed[1];
  const parts = address.split(":");
  return parts.length === 2 && parts[0] ? parts[0] : address;
}
