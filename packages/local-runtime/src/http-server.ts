// The host's HTTP front door: function routes under the prefix, the admin invoke endpoint, the homepage.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { hostError, hostLog } from "./log.js";
import { readBody, requestHeaders, requestUrl, toRpcHttpRequest, writeRpcHttpResponse, queryValues, type RequestUrl } from "./http-rpc.js";
import { findTriggerModule, type TriggerModule } from "./trigger-module.js";
import type { HttpRouteTable, RouteMatch } from "./http-routes.js";
import type { FunctionHost, RegisteredFunction } from "./function-host.js";
import type { Invoker, InvokeRequest } from "./invoke.js";
import type { RpcHttpData, RpcInvocationResponse } from "./core-types.js";
import { functionMetadataResponse, type FunctionMetadataResponse } from "./admin-functions.js";
// --- Mail: the development mailbox under /admin/mailbox (services/mail-sink.ts, mailbox-page.ts) ---
import { activeMailSink } from "./services/mail-sink.js";
import { activeSmsEndpoint } from "./services/sms-endpoint.js";
import { activePushService } from "./services/push-service.js";
import { handleMailboxRequest } from "./mailbox-page.js";
// --- end Mail ---
// --- Stripe: the emulator's admin routes under /admin/stripe (services/stripe-admin.ts) ---
import { activeStripeEmulator } from "./services/stripe-emulator.js";
import { handleStripeAdminRequest } from "./services/stripe-admin.js";
// --- end Stripe ---
// --- OpenAI: the stand-in's admin routes under /admin/openai (services/openai-admin.ts) ---
import { activeOpenAIStandIn } from "./services/openai-standin.js";
import { handleOpenAIAdminRequest } from "./services/openai-admin.js";
// --- end OpenAI ---
// --- Durable: the extension's HTTP API (durable/http-api.ts) ---
import { activeDurableModule } from "./durable/index.js";
// --- end Durable ---

export interface HttpServerOptions {
  host: FunctionHost;
  invoker: Invoker;
  routes: HttpRouteTable;
  triggers: readonly TriggerModule[];
  /** Set when the app enabled HTTP streaming: requests are forwarded to the library's proxy at this URI. */
  streamingProxyUri: string | undefined;
  isDisabled(fn: RegisteredFunction): boolean;
  /** For the admin API's script paths. */
  appRoot: string;
}

/** How far ahead the timer admin route may reach: a year and a day. */
const maxAdvanceHours = 24 * 366;

const homepage =
  "<!DOCTYPE html><html><head><title>Your Functions app is up and running</title></head>" +
  "<body><h1>Your Functions app is up and running (local runtime)</h1></body></html>";

export class LocalHttpServer {
  readonly server: http.Server;
  #accepting = true;

  constructor(private readonly options: HttpServerOptions) {
    this.server = http.createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        hostError("Unhandled host error: %s", error instanceof Error ? (error.stack ?? error.message) : String(error));
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        } else res.destroy();
      });
    });
    // Keep-alive sockets would hold shutdown open; the host closes idle connections when stopping too.
    this.server.keepAliveTimeout = 5000;
  }

  listen(port: number, hostname: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, hostname, () => {
        this.server.off("error", reject);
        const address = this.server.address();
        const actualPort = typeof address === "object" && address ? address.port : port;
        // --- Mail ---
        if (activeMailSink() ?? activeSmsEndpoint() ?? activePushService() ?? activeStripeEmulator()) hostLog(`Mailbox: http://${hostname}:${actualPort}/admin/mailbox`);
        // --- end Mail ---
        resolve(actualPort);
      });
    });
  }

  /** Stops accepting new requests; in-flight requests run to completion (the caller bounds the wait). */
  close(): Promise<void> {
    this.#accepting = false;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  forceClose(): void {
    this.server.closeAllConnections();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#accepting) {
      res.statusCode = 503;
      res.setHeader("connection", "close");
      res.end();
      return;
    }
    const url = requestUrl(req.url ?? "/", req.headers.host ?? "127.0.0.1");
    const method = (req.method ?? "GET").toUpperCase();
    const { pathname } = url;

    // --- Durable ---
    if (pathname.length > 9 && pathname.slice(0, 9).toLowerCase() === "/runtime/") {
      const durable = activeDurableModule();
      if (durable && (await durable.handleHttp(pathname, method, asUrl(url), req, res))) return;
    }
    // --- end Durable ---
    if (pathname.length > 7 && pathname.slice(0, 7).toLowerCase() === "/admin/" && (await this.#admin(pathname, method, asUrl(url), req, res))) return;

    const match = this.options.routes.match(pathname, method);
    // Disabled functions keep their route (and answer 404): decided once at start-up, as by the host.
    if (match && !match.route.disabled) {
      await this.#invokeHttp(match, method, url, req, res);
      return;
    }
    if (!match && pathname === "/") {
      res.setHeader("content-type", "text/html");
      res.end(homepage);
      return;
    }
    // Unmatched path, wrong method and disabled function all end here: the host answers 404 with no body.
    res.statusCode = 404;
    res.end();
  }

  /** The admin API; false when the path is none of its routes (then it may still be a function route). */
  async #admin(pathname: string, method: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (/^\/admin\/functions\/?$/i.test(pathname) && method === "GET") {
      sendJson(res, 200, this.#functionsMetadata(url, req));
      return true;
    }
    const functionMatch = /^\/admin\/functions\/([^/]+)\/?$/i.exec(pathname);
    if (functionMatch && (method === "POST" || method === "GET")) {
      const name = decodeURIComponent(functionMatch[1] as string);
      if (method === "POST") await this.#adminInvoke(name, req, res);
      else {
        const fn = this.#findFunction(name);
        if (fn) sendJson(res, 200, this.#functionMetadata(fn, url, req));
        else {
          res.statusCode = 404;
          res.end();
        }
      }
      return true;
    }
    if (/^\/admin\/host\/status\/?$/i.test(pathname) && method === "GET") {
      sendJson(res, 200, { state: "Running", version: this.options.host.hostVersion });
      return true;
    }
    // --- Durable: POST /admin/durable/instances/{id}/timers/fire fires an instance's timers early ---
    const fireMatch = /^\/admin\/durable\/instances\/([^/]+)\/timers\/fire\/?$/i.exec(pathname);
    if (fireMatch && method === "POST") {
      await this.#fireDurableTimers(decodeURIComponent(fireMatch[1] as string), req, res);
      return true;
    }
    // --- end Durable ---
    // --- Mail: /admin/mailbox, its messages, sms and push lists, /admin/push/subscriptions (404 when not running) ---
    if (await handleMailboxRequest({ mail: activeMailSink(), sms: activeSmsEndpoint(), push: activePushService(), stripe: activeStripeEmulator() }, pathname, method, req, res)) return true;
    // --- end Mail ---
    // --- Stripe ---
    if (await handleStripeAdminRequest(activeStripeEmulator(), pathname, method, req, res)) return true;
    // --- end Stripe ---
    // --- OpenAI ---
    if (await handleOpenAIAdminRequest(activeOpenAIStandIn(), pathname, method, req, res)) return true;
    // --- end OpenAI ---
    return false;
  }

  #findFunction(name: string): RegisteredFunction | undefined {
    const wanted = name.toLowerCase();
    for (const fn of this.options.host.functions.values()) if (fn.name.toLowerCase() === wanted) return fn;
    return undefined;
  }

  #baseUrl(url: URL, req: IncomingMessage): string {
    return `http://${req.headers.host ?? url.host}`;
  }

  #functionsMetadata(url: URL, req: IncomingMessage): FunctionMetadataResponse[] {
    const baseUrl = this.#baseUrl(url, req);
    return [...this.options.host.functions.values()].map((fn) => this.#describe(fn, baseUrl));
  }

  #functionMetadata(fn: RegisteredFunction, url: URL, req: IncomingMessage): FunctionMetadataResponse {
    return this.#describe(fn, this.#baseUrl(url, req));
  }

  #describe(fn: RegisteredFunction, baseUrl: string): FunctionMetadataResponse {
    return functionMetadataResponse(fn, {
      baseUrl,
      routePrefix: this.options.routes.routePrefix,
      appRoot: this.options.appRoot,
      disabled: this.options.isDisabled(fn),
    });
  }

  async #invokeHttp(match: RouteMatch, method: string, url: RequestUrl, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { fn } = match.route;
    const headers = requestHeaders(req);
    if (this.options.streamingProxyUri) {
      await this.#invokeStreaming(match, method, asUrl(url), headers, req, res);
      return;
    }
    const read = readBody(req);
    const body = read instanceof Promise ? await read : read;
    const request: InvokeRequest = {
      inputData: [{ name: fn.triggerName, data: { http: toRpcHttpRequest({ method, url, headers, params: match.params, body }) } }],
      // A worker declaring RpcHttpTriggerMetadataRemoved gets no Headers/Query metadata (they are in the request).
      triggerMetadata: routeParamsMetadata(match.params),
      reason: `This function was programmatically called via the host APIs.`,
      traceParent: headers.traceparent,
    };
    let response: RpcInvocationResponse;
    try {
      ({ response } = await this.options.invoker.invoke(fn.name, request));
    } catch {
      // The function failed (already logged): the host's exception middleware answers 500 with no body.
      res.statusCode = 500;
      res.end();
      return;
    }
    writeRpcHttpResponse(res, httpOutput(match.route.httpOutputName, response));
  }

  /**
   * HTTP streaming (app.setup({ enableHttpStream: true })): like the host, forward the live request to the
   * library's proxy server tagged with the invocation id, and invoke with an empty RpcHttp plus trigger metadata.
   */
  async #invokeStreaming(
    match: RouteMatch,
    method: string,
    url: URL,
    headers: Record<string, string>,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const { fn } = match.route;
    const invocationId = randomUUID();
    const target = new URL(`${url.pathname}${url.search}`, this.options.streamingProxyUri);
    const proxied = new Promise<void>((resolve, reject) => {
      const proxyReq = http.request(
        target,
        {
          method,
          headers: {
            ...headers,
            "x-ms-invocation-id": invocationId,
            "x-forwarded-host": req.headers.host ?? url.host,
            "x-forwarded-proto": "http",
          },
        },
        (proxyRes) => {
          res.writeHead(proxyRes.statusCode ?? 200, proxyRes.headers);
          proxyRes.pipe(res);
          proxyRes.on("end", resolve);
          proxyRes.on("error", reject);
        },
      );
      proxyReq.on("error", reject);
      req.pipe(proxyReq);
    });
    const invocation = this.options.invoker.invoke(fn.name, {
      invocationId,
      inputData: [{ name: fn.triggerName, data: { http: {} } }],
      triggerMetadata: httpTriggerMetadata(url, headers, match.params),
      traceParent: headers.traceparent,
    });
    try {
      await invocation;
    } catch {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      } else res.destroy();
      proxied.catch(() => undefined);
      return;
    }
    await proxied;
  }

  /** Body `{ "advanceHours": n }` (0 < n ≤ 24·366): the open timers due by now + n hours fire now. */
  async #fireDurableTimers(instanceId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = (await readBody(req)).toString("utf8");
    let advanceHours: unknown;
    try {
      advanceHours = (JSON.parse(text) as { advanceHours?: unknown } | null)?.advanceHours;
    } catch {
      advanceHours = undefined;
    }
    if (typeof advanceHours !== "number" || !Number.isFinite(advanceHours) || advanceHours <= 0 || advanceHours > maxAdvanceHours) {
      sendJson(res, 400, { error: `The body must be {"advanceHours": n} with 0 < n <= ${maxAdvanceHours}.` });
      return;
    }
    const fired = activeDurableModule()?.engine.fireTimersEarly(instanceId, advanceHours * 3_600_000);
    if (!fired) {
      sendJson(res, 404, { error: `No orchestration instance '${instanceId}' on this host.` });
      return;
    }
    sendJson(res, 200, { fired: await fired });
  }

  async #adminInvoke(name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = (await readBody(req)).toString("utf8");
    let payload: unknown;
    try {
      payload = text === "" ? null : JSON.parse(text);
    } catch {
      payload = null;
    }
    if (payload === null || typeof payload !== "object") {
      res.statusCode = 400;
      res.end();
      return;
    }
    const fn = this.#findFunction(name);
    if (!fn) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const input = (payload as { input?: unknown }).input;
    const trigger = findTriggerModule(this.options.triggers, fn.trigger.type);
    // Fire and forget, like the host's FunctionsController.Invoke: the caller gets 202 straight away.
    const run = async (): Promise<void> => {
      if (trigger?.runAdminInvocation) return trigger.runAdminInvocation(fn, input);
      const request = trigger?.adminInvocation
        ? await trigger.adminInvocation(fn, input)
        : { inputData: [{ name: fn.triggerName, data: adminInputData(input) }] };
      await this.options.invoker.invoke(fn.name, request);
    };
    hostLog(`Admin invocation of '${fn.name}' accepted.`);
    run().catch(() => undefined);
    res.statusCode = 202;
    res.end();
  }
}

/** A WHATWG URL for the paths that want one (admin, durable, streaming); function routes do without. */
function asUrl(url: RequestUrl): URL {
  return url instanceof URL ? url : new URL(url.href);
}

function adminInputData(input: unknown): { string: string } {
  return { string: typeof input === "string" ? input : JSON.stringify(input ?? "") };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(value));
}

/** Route parameters as trigger metadata, as the host sends them (with HTTP streaming also Query and Headers). */
function routeParamsMetadata(params: Record<string, string>): Record<string, { string?: string; json?: string }> {
  const metadata: Record<string, { string?: string; json?: string }> = {};
  for (const key in params) metadata[key] = { string: params[key] as string };
  return metadata;
}

/** What the host puts in trigger metadata for HTTP when streaming: the library reads headers and params from it. */
function httpTriggerMetadata(url: URL, headers: Record<string, string>, params: Record<string, string>) {
  const metadata: Record<string, { string?: string; json?: string }> = {
    Query: { json: JSON.stringify(queryValues(url)) },
    Headers: { json: JSON.stringify(headers) },
  };
  for (const [key, value] of Object.entries(params)) metadata[key] = { string: value };
  return metadata;
}

/** The http output binding's value: the return value for `$return`, else the named output. */
function httpOutput(name: string | undefined, response: RpcInvocationResponse): RpcHttpData | undefined {
  if (name === undefined) return undefined;
  const data = name === "$return" ? response.returnValue : response.outputData?.find((o) => o.name === name)?.data;
  return data?.http ?? undefined;
}
