import { randomUUID } from "node:crypto";

/** W3C Trace Context (https://www.w3.org/TR/trace-context/) `traceparent`, carried through every hop. */
export interface TraceContext {
  traceparent: string;
  traceId: string;
  spanId: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(value: string | null | undefined): TraceContext | undefined {
  const m = value ? TRACEPARENT.exec(value.trim().toLowerCase()) : null;
  if (!m) return undefined;
  const [, traceId, spanId] = m as unknown as [string, string, string];
  // All-zero ids are invalid per the spec.
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceparent: m[0], traceId, spanId };
}

/** A child span of `parent` (same trace id, new span id), or a new trace when there is none. */
export function childTrace(parent?: TraceContext): TraceContext {
  const traceId = parent?.traceId ?? randomHex(32);
  const spanId = randomHex(16);
  return { traceparent: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

/**
 * `length` random hex digits from random UUIDs (drawn from Node's cached entropy pool: cheaper per call than
 * randomBytes, which asks OpenSSL every time). A v4 UUID fixes the version and variant digits: skipped.
 */
function randomHex(length: number): string {
  let hex = "";
  while (hex.length < length) {
    const u = randomUUID();
    hex += u.slice(0, 8) + u.slice(9, 13) + u.slice(15, 18) + u.slice(20, 23) + u.slice(24);
  }
  return hex.slice(0, length);
}
