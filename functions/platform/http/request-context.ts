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
  const forwarded = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  const clientIp = forwarded ? withoutPort(forwarded) : null;
  const log = createLogger({
    level: s.LOG_LEVEL,
    context,
    fields: { requestId, traceparent: trace.traceparent, function: context.functionName, invocationId: context.invocationId },
  });
  return { requestId, trace, clientIp, log };
}

/** Azure appends the port to the client address (`1.2.3.4:5678`, `[::1]:5678`); keep the address only. */
export function withoutPort(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed?.[1]) return bracketed[1];
  const parts = address.split(":");
  return parts.length === 2 && parts[0] ? parts[0] : address;
}
