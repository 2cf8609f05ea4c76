import { isAbsolute, join } from "node:path";
import { app, type HttpRequest, type HttpResponseInit } from "@azure/functions";
import { projectRoot } from "../platform/project-root.js";
import { platform } from "../platform/platform.js";
import { webAppEnabled } from "../platform/settings.js";
import { problemResponse } from "../platform/http/problem.js";
import { withSecurityHeaders } from "../platform/http/security-headers.js";
import { chooseEncoding, createStaticFiles, type StaticFile, type StaticFiles, pathSegments, UnsafePathError } from "../platform/http/static-files.js";
import { CACHE_IMMUTABLE, CACHE_REVALIDATE, CACHE_SHORT, WEB_APP_HEADERS, webAppCsp } from "../platform/http/web-app-headers.js";

/**
 * The built web app at the site's root, so `npm start` runs the whole product on one origin. In Azure the Static
 * Web Apps site serves it (docs/architecture.md, "The web app"), WEB_APP_ENABLED is false and this is not
 * registered. Not a `route()`: it is no part of the API or its document. The API's own routes (`api/...`) and its
 * not-found catch-all take precedence over this one (literal segments first), so it sees only paths outside /api,
 * and HEAD there, which no API route declares.
 */

interface WebApp {
  files: StaticFiles;
  csp: string;
}

let webApp: WebApp | undefined;

function currentWebApp(): WebApp {
  if (!webApp) {
    const p = platform();
    const dir = p.settings.WEB_APP_DIR;
    webApp = {
      files: createStaticFiles(isAbsolute(dir) ? dir : join(projectRoot(), dir)),
      csp: webAppCsp(new URL(p.blob.url).origin),
    };
  }
  return webApp;
}

const hasExtension = (segment: string | undefined) => segment !== undefined && /\.[^.]+$/.test(segment);

const webAppFunction: Parameters<typeof app.http>[1] = {
  methods: ["GET", "HEAD"],
  route: "{*path}",
  authLevel: "anonymous",
  handler: async (request) => {
    const { files, csp } = currentWebApp();
    const respond = (response: HttpResponseInit): HttpResponseInit => ({
      ...response,
      headers: withSecurityHeaders(request, { ...response, headers: { ...WEB_APP_HEADERS, "content-security-policy": csp, ...response.headers } }, false),
    });

    let segments: string[];
    try {
      segments = pathSegments(new URL(request.url).pathname);
    } catch (err) {
      if (err instanceof UnsafePathError) return respond(text(400, "Bad request: the path is not allowed.", request));
      throw err;
    }
    // HEAD on an API path (no API route declares HEAD) reaches this catch-all: answered as the API would.
    if (segments[0]?.toLowerCase() === "api") return respond(problemResponse("ROUTE_NOT_FOUND", { detail: `No route matches ${request.method} ${new URL(request.url).pathname}.` }));

    const asset = segments[0] === "assets";
    // Static Web Apps' own configuration ships in the build but is not a page: that host does not serve it either.
    const servable = segments.length > 0 && !(segments.length === 1 && segments[0] === "staticwebapp.config.json");
    const file = servable ? await files.file(segments) : null;
    if (file) {
      const cache = asset ? CACHE_IMMUTABLE : segments.length === 1 && segments[0] === "index.html" ? CACHE_REVALIDATE : CACHE_SHORT;
      return respond(fileResponse(request, file, cache));
    }
    // A missing hashed file or a missing file with an extension is a 404; anything else is a client-side route.
    if (asset || hasExtension(segments.at(-1))) return respond(text(404, "Not found.", request));
    const index = await files.file(["index.html"]);
    if (!index) return respond(notBuilt(request, files.root));
    return respond(fileResponse(request, index, CACHE_REVALIDATE));
  },
};

// Not in Azure (WEB_APP_ENABLED false in Bicep): the Static Web Apps site serves the app there, and a second copy
// on the function app's origin would have its own storage (so its own sign-in) and no Blob CORS.
if (webAppEnabled()) app.http("web-app", webAppFunction);

function fileResponse(request: HttpRequest, file: StaticFile, cacheControl: string): HttpResponseInit {
  const encoding = chooseEncoding(request.headers.get("accept-encoding"), file.encoded);
  const tag = (suffix: string) => `"${file.etag}${suffix}"`;
  const etag = tag(encoding ? `-${encoding}` : "");
  const varies = Object.keys(file.encoded).length > 0;
  const headers: Record<string, string> = { "cache-control": cacheControl, etag, ...(varies ? { vary: "Accept-Encoding" } : {}) };
  // Every encoding's tag names the same content: a client holding any of them has it (weak comparison, RFC 9110).
  const tags = new Set([tag(""), tag("-br"), tag("-gzip")]);
  const ifNoneMatch = request.headers.get("if-none-match");
  if (ifNoneMatch && (ifNoneMatch.trim() === "*" || ifNoneMatch.split(",").some((t) => tags.has(t.trim().replace(/^W\//, ""))))) {
    return { status: 304, headers };
  }
  const body = encoding ? (file.encoded[encoding] as Buffer) : file.body;
  headers["content-type"] = file.contentType;
  if (encoding) headers["content-encoding"] = encoding;
  return withBody(request, 200, headers, body);
}

function text(status: number, message: string, request: HttpRequest): HttpResponseInit {
  return withBody(request, status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache" }, Buffer.from(message));
}

/** The build directory (or its index) is missing: say how to make it, rather than answer an empty 404 or a 500. */
function notBuilt(request: HttpRequest, root: string): HttpResponseInit {
  const html =
    `<!doctype html><html lang="en"><meta charset="utf-8"><title>Ringlet: web app not built</title>` +
    `<main><h1>The web app is not built</h1><p>Run <code>npm run build</code>; it writes the app to ${escapeHtml(root)}, ` +
    `which this function serves. The API answers under <a href="/api/docs">/api</a>.</p></main></html>`;
  return withBody(request, 503, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "retry-after": "60" }, Buffer.from(html));
}

/** HEAD answers the same headers, its length included, without the body. */
function withBody(request: HttpRequest, status: number, headers: Record<string, string>, body: Buffer): HttpResponseInit {
  if (request.method === "HEAD") return { status, headers: { ...headers, "content-length": String(body.length) } };
  return { status, headers, body };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
