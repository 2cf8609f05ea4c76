import { app } from "@azure/functions";
import { publicAccess } from "../platform/http/access.js";
import { preflightHeaders } from "../platform/http/cors.js";
import { ProblemError } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { requestMeta } from "../platform/http/request-context.js";
import { withSecurityHeaders } from "../platform/http/security-headers.js";
import { platform } from "../platform/platform.js";
import { type HttpMethod, declaredRoutes, templateMatches } from "../platform/http/route-registry.js";

const methods: HttpMethod[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/**
 * The host answers unmatched paths with an empty 404. A catch-all (lowest precedence in the host's
 * routing) turns those, and known paths called with the wrong method, into problem+json.
 */
for (const method of methods) {
  route({
    name: `system-not-found-${method.toLowerCase()}`,
    method,
    path: "/{*path}",
    access: publicAccess,
    summary: "Unknown route",
    hidden: true,
    responses: {},
    handler: async ({ request }) => {
      const path = new URL(request.url).pathname.replace(/^\/api/, "");
      const allowed = declaredRoutes()
        .filter((r) => !r.path.startsWith("/{*") && templateMatches(r.path, path))
        .map((r) => r.method);
      if (allowed.length > 0) {
        throw new ProblemError("METHOD_NOT_ALLOWED", {
          detail: `${request.method} is not allowed here; use ${allowed.join(", ")}.`,
          headers: { allow: [...new Set(allowed)].join(", ") },
        });
      }
      throw new ProblemError("ROUTE_NOT_FOUND", { detail: `No route matches ${request.method} /api${path}.` });
    },
  });
}

/**
 * OPTIONS on any path: CORS preflights (and plain OPTIONS). No route declares OPTIONS, so this catch-all takes
 * them all; it is not a `route` (nothing to validate or authorise, and no place in the API document), but it
 * answers with the same edge headers.
 */
app.http("system-cors-preflight", {
  methods: ["OPTIONS"],
  route: "{*path}",
  authLevel: "anonymous",
  handler: async (request, context) => {
    const p = platform();
    const { requestId } = requestMeta(request, context, p.settings);
    const headers = { ...withSecurityHeaders(request, { status: 204 }, false), ...preflightHeaders(request, p.settings.CORS_ALLOWED_ORIGINS), "x-request-id": requestId };
    return { status: 204, headers };
  },
});
