import type { HttpRequest } from "@azure/functions";

/**
 * CORS answered by the app itself, for every route and for preflights, from CORS_ALLOWED_ORIGINS. The
 * platform's own CORS (siteConfig.cors in Bicep) is left empty: it answers before the app does, so the two
 * must never both be on. Bearer tokens, no cookies: credentials are never allowed.
 */

const ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE";
const ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, traceparent";
const EXPOSED_HEADERS = "ETag, Location, Retry-After, X-Request-Id, Link";
// How long a browser may reuse a preflight's answer (Chromium caps this at 2 hours).
const PREFLIGHT_MAX_AGE_S = "7200";

function allowedOrigin(request: HttpRequest, allowed: readonly string[]): string | null {
  const origin = request.headers.get("origin");
  if (!origin) return null;
  if (allowed.includes("*")) return "*";
  return allowed.includes(origin) ? origin : null;
}

/** Headers for an actual (non-preflight) response: the origin echoed back only when it is listed. */
export function corsHeaders(request: HttpRequest, allowed: readonly string[]): Record<string, string> {
  const origin = allowedOrigin(request, allowed);
  // Vary always: a cache must not hand one origin's answer (with or without the grant) to another.
  if (!origin) return { vary: "Origin" };
  return { vary: "Origin", "access-control-allow-origin": origin, "access-control-expose-headers": EXPOSED_HEADERS };
}

/** The answer to an OPTIONS request: a preflight from a listed origin gets the grant, anything else none. */
export function preflightHeaders(request: HttpRequest, allowed: readonly string[]): Record<string, string> {
  const vary = { vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers", allow: `${ALLOWED_METHODS}, OPTIONS` };
  const origin = allowedOrigin(request, allowed);
  if (!origin || !request.headers.get("access-control-request-method")) return vary;
  return {
    ...vary,
    "access-control-allow-origin": origin,
    "access-control-allow-methods": ALLOWED_METHODS,
    "access-control-allow-headers": ALLOWED_HEADERS,
    "access-control-max-age": PREFLIGHT_MAX_AGE_S,
  };
}
