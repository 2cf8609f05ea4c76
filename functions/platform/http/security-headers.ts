import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { requiresCaller } from "./access.js";
import { corsHeaders } from "./cors.js";
import type { RouteDeclaration } from "./route-registry.js";

/**
 * Headers every API response carries, set in one place (the route helper, and the CORS preflight route) so
 * no route can forget them.
 */

// For HTML, SVG and other non-JSON bodies: nothing loads, nothing frames the page. A route that needs more (the
// docs page) sets its own policy, which keeps its sources and gains frame-ancestors when it lacks one.
const DEFAULT_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const NO_FRAMING = "frame-ancestors 'none'";

const isJson = (contentType: string | undefined) => {
  const media = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  return media === "application/json" || media.endsWith("+json");
};

// Set here whatever a route says: a route cannot weaken them.
const EDGE_OWNED = new Set(["x-content-type-options", "referrer-policy", "strict-transport-security"]);

/**
 * Whether a route's answers are personal, as it declares (`personal`), else by its shape: it needs a caller, or
 * it is a sign-in/token route.
 */
export function isPersonalRoute(route: Pick<RouteDeclaration, "personal" | "access" | "path">): boolean {
  return route.personal ?? (requiresCaller(route.access) || /^\/v1\/auth(\/|$)/.test(route.path));
}

/**
 * Whether a response is personal, so no cache may keep it: every answer of a personal route, and any answer to
 * a request that sends credentials (a signed-in caller, or a refused token), on public routes too.
 */
export function isPersonal(request: HttpRequest, personalRoute: boolean): boolean {
  return personalRoute || request.headers.has("authorization");
}

/**
 * The response's headers with the security headers added:
 * - `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` always;
 * - `Strict-Transport-Security` when the request came over HTTPS. The scheme is the request URL's, as the host
 *   gives it: in Azure the front end terminates TLS and the Functions host rewrites the URL's scheme from the
 *   front end's own X-Forwarded-Proto (which the front end sets, overwriting the client's), so HTTPS requests
 *   read https://; the site is httpsOnly besides, so plain HTTP never reaches the app there. Locally the
 *   runtime builds an http:// URL whatever a client's X-Forwarded-Proto says, so a forged header cannot turn
 *   HSTS on for localhost;
 * - a restrictive `Content-Security-Policy` on non-JSON bodies;
 * - `Cache-Control: no-store` on personal responses, unless the route already said no-store. Weaker values a
 *   route sets (`private, no-cache` with an ETag on /v1/me) give way: a personal answer must not be written to
 *   a browser's or a proxy's disk, and the ETag still serves If-Match and clients that keep their own copy.
 */
export function withSecurityHeaders(request: HttpRequest, response: HttpResponseInit, personal: boolean): Record<string, string> {
  // One pass over the route's headers, names lower-cased (HTTP names are case-insensitive): this runs on every
  // response, so no per-header searches.
  const headers: Record<string, string> = {};
  const source = (response.headers ?? {}) as Record<string, string>;
  for (const name of Object.keys(source)) {
    const lower = name.toLowerCase();
    if (!EDGE_OWNED.has(lower)) headers[lower] = source[name] as string;
  }
  headers["x-content-type-options"] = "nosniff";
  headers["referrer-policy"] = "no-referrer";
  if (request.url.startsWith("https:")) headers["strict-transport-security"] = "max-age=31536000; includeSubDomains";
  if (response.body !== undefined && response.body !== null && !isJson(headers["content-type"])) {
    const csp = headers["content-security-policy"];
    headers["content-security-policy"] = !csp ? DEFAULT_CSP : /frame-ancestors/i.test(csp) ? csp : `${csp}; ${NO_FRAMING}`;
  }
  if (personal && !/\bno-store\b/i.test(headers["cache-control"] ?? "")) headers["cache-control"] = "no-store";
  return headers;
}

/** Joins Vary values without repeats (a route may vary on Accept already). */
function mergeVary(a: string | undefined, b: string | undefined): string | undefined {
  if (!a || !b) return a || b;
  const names = [...a.split(","), ...b.split(",")].map((n) => n.trim()).filter(Boolean);
  return [...new Map(names.map((n) => [n.toLowerCase(), n])).values()].join(", ");
}

/** Everything the edge adds to a response: security headers, CORS for listed origins, the request id. */
export function edgeHeaders(
  request: HttpRequest,
  response: HttpResponseInit,
  options: { corsOrigins: readonly string[]; requestId: string; personalRoute: boolean },
): Record<string, string> {
  const headers = withSecurityHeaders(request, response, isPersonal(request, options.personalRoute));
  const { vary, ...cors } = corsHeaders(request, options.corsOrigins);
  const merged = mergeVary(headers.vary, vary);
  return { ...headers, ...cors, ...(merged ? { vary: merged } : {}), "x-request-id": options.requestId };
}
