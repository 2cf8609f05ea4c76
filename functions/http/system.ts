import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { z } from "zod";
import { publicAccess } from "../platform/http/access.js";
import { ProblemError } from "../platform/http/problem.js";
import type { Platform } from "../platform/platform.js";
import { apiDocumentInfo, openApiDocument } from "../platform/http/openapi.js";
import { route } from "../platform/http/route.js";
import { checkDependencies, outboxHealth } from "../platform/readiness.js";

const healthSchema = z.object({ status: z.literal("ok") }).meta({ id: "Health" });
const dependencySchema = z.object({
  status: z.enum(["up", "down"]),
  latencyMs: z.number().int(),
  error: z.string().optional(),
});
const outboxHealthSchema = z.object({
  backlog: z.number().int(),
  oldestAgeSeconds: z.number().nullable(),
  publishPausedUntil: z.iso.datetime().nullable(),
  lastPublishError: z.string().nullable(),
});
const readinessSchema = z
  .object({ status: z.enum(["ready", "not-ready"]), checks: z.record(z.string(), dependencySchema), outbox: outboxHealthSchema.nullable() })
  .meta({ id: "Readiness" });

route({
  name: "system-health",
  method: "GET",
  path: "/health",
  access: publicAccess,
  summary: "The process is up",
  tags: ["system"],
  responses: { 200: { description: "Up", body: healthSchema } },
  handler: async () => ({ status: 200, body: { status: "ok" }, headers: { "cache-control": "no-store" } }),
});

route({
  name: "system-ready",
  method: "GET",
  path: "/ready",
  access: publicAccess,
  summary: "Every dependency answers now",
  description: "Each dependency with its status and latency; 503 when any is down.",
  tags: ["system"],
  responses: {
    200: { description: "Ready", body: readinessSchema },
    503: { description: "A dependency is down", body: readinessSchema, contentType: "application/json" },
  },
  handler: async (_input, ctx) => {
    const checks = await checkDependencies(ctx.platform);
    const ready = Object.values(checks).every((c) => c.status === "up");
    const outbox = checks.postgres?.status === "up" ? await outboxHealth(ctx.platform).catch(() => null) : null;
    if (!ready) ctx.log.warn("not ready", { checks });
    return {
      status: ready ? 200 : 503,
      body: { status: ready ? "ready" : "not-ready", checks, outbox },
      headers: { "cache-control": "no-store" },
    };
  },
});

let document: unknown;

// API_DOCS_ENABLED=false (production) hides the documentation page, its assets and the OpenAPI document: they
// answer as if they did not exist. The document follows the page: it maps every route, and clients that need it
// get it from the repository's release instead.
const docsOff = { description: "`ROUTE_NOT_FOUND`: API_DOCS_ENABLED is off" };
function assertDocsEnabled(p: Platform): void {
  if (!p.settings.API_DOCS_ENABLED) throw new ProblemError("ROUTE_NOT_FOUND", { detail: "No route matches this request." });
}

route({
  name: "system-openapi",
  method: "GET",
  path: "/openapi.json",
  access: publicAccess,
  summary: "This API's OpenAPI 3.1 document",
  tags: ["system"],
  responses: {
    200: {
      description: "OpenAPI 3.1",
      body: z
        .looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) })
        .meta({ id: "OpenApiDocument" }),
    },
    404: docsOff,
  },
  handler: async (_input, ctx) => {
    assertDocsEnabled(ctx.platform);
    // Every route is registered before the first request, so the document is built once.
    document ??= openApiDocument(apiDocumentInfo);
    return { status: 200, body: document, headers: { "cache-control": "public, max-age=60" } };
  },
});

// Swagger UI served from the installed package: the page loads nothing from the internet.
const swaggerUiDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const docsAssets: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

const docsPage = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Ringlet API</title>
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script src="docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="docs/assets/init.js"></script>
</body>
</html>`;

// Relative URLs keep the page working under any host and route prefix; the validator badge would call out.
const docsInit = `window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});`;

route({
  name: "system-docs",
  method: "GET",
  path: "/docs",
  access: publicAccess,
  summary: "Browsable API documentation",
  tags: ["system"],
  responses: { 200: { description: "HTML page", contentType: "text/html" }, 404: docsOff },
  handler: async (_input, ctx) => {
    assertDocsEnabled(ctx.platform);
    return {
      raw: {
        status: 200,
        headers: {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
        },
        body: docsPage,
      },
    };
  },
});

route({
  name: "system-docs-assets",
  method: "GET",
  path: "/docs/assets/{file}",
  access: publicAccess,
  summary: "Static files of the documentation page",
  tags: ["system"],
  hidden: true,
  params: z.object({ file: z.enum(["init.js", ...Object.keys(docsAssets)] as [string, ...string[]]) }),
  responses: { 200: { description: "File", contentType: "application/octet-stream" }, 404: docsOff },
  handler: async ({ params }, ctx) => {
    assertDocsEnabled(ctx.platform);
    const body = params.file === "init.js" ? docsInit : await readFile(join(swaggerUiDir, params.file));
    return {
      raw: {
        status: 200,
        headers: {
          "content-type": docsAssets[params.file] ?? "text/javascript; charset=utf-8",
          "cache-control": "public, max-age=86400",
        },
        body,
      },
    };
  },
});
