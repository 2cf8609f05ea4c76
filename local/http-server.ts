// The host's HTTP front door: function routes under the prefix, the admin invoke endpoint, the homepage.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { hostError, hostLog } from './log.js';
import { readBody, requestHeaders, toRpcHttpRequest, writeRpcHttpResponse, queryValues } from './http-rpc.js';
import { findTriggerModule, type TriggerModule } from './trigger-module.js';
import type { HttpRouteTable, RouteMatch } from './http-routes.js';
import type { FunctionHost, RegisteredFunction } from './function-host.js';
import type { Invoker, InvokeRequest } from './invoke.js';
import type { RpcHttpData, RpcInvocationResponse } from './core-types.js';

export interface HttpServerOptions {
  host: FunctionHost;
  invoker: Invoker;
  routes: HttpRouteTable;
  triggers: readonly TriggerModule[];
  /** Set when the app enabled HTTP streaming: requests are forwarded to the library's proxy at this URI. */
  streamingProxyUri: string | undefined;
  isDisabled(fn: RegisteredFunction): boolean;
}

const homepage =
  '<!DOCTYPE html><html><head><title>Your Functions app is up and running</title></head>' +
  '<body><h1>Your Functions app is up and running (local runtime)</h1></body></html>';

export class LocalHttpServer {
  readonly server: http.Server;
  #accepting = true;

  constructor(private readonly options: HttpServerOptions) {
    this.server = http.createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        hostError('Unhandled host error: %s', error instanceof Error ? (error.stack ?? error.message) : String(error));
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
      this.server.once('error', reject);
      this.server.listen(port, hostname, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
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
      res.setHeader('connection', 'close');
      res.end();
      return;
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const method = (req.method ?? 'GET').toUpperCase();

    const adminMatch = /^\/admin\/functions\/([^/]+)\/?$/i.exec(url.pathname);
    if (adminMatch && method === 'POST') {
      await this.#adminInvoke(decodeURIComponent(adminMatch[1] as string), req, res);
      return;
    }
    if (/^\/admin\/host\/status\/?$/i.test(url.pathname) && method === 'GET') {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ state: 'Running', version: this.options.host.hostVersion }));
      return;
    }

    const match = this.options.routes.match(url.pathname, method);
    if (match && !this.options.isDisabled(match.route.fn)) {
      await this.#invokeHttp(match, method, url, req, res);
      return;
    }
    if (!match && url.pathname === '/') {
      res.setHeader('content-type', 'text/html');
      res.end(homepage);
      return;
    }
    // Unmatched path, wrong method and disabled function all end here: the host answers 404 with no body.
    res.statusCode = 404;
    res.end();
  }

  async #invokeHttp(match: RouteMatch, method: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { fn } = match.route;
    const headers = requestHeaders(req);
    if (this.options.streamingProxyUri) {
      await this.#invokeStreaming(match, method, url, headers, req, res);
      return;
    }
    const body = await readBody(req);
    const request: InvokeRequest = {
      inputData: [{ name: fn.triggerName, data: { http: toRpcHttpRequest({ method, url, headers, params: match.params, body }) } }],
      triggerMetadata: httpTriggerMetadata(url, headers, match.params),
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
    writeRpcHttpResponse(res, httpOutput(fn, response));
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
            'x-ms-invocation-id': invocationId,
            'x-forwarded-host': req.headers.host ?? url.host,
            'x-forwarded-proto': 'http',
          },
        },
        (proxyRes) => {
          res.writeHead(proxyRes.statusCode ?? 200, proxyRes.headers);
          proxyRes.pipe(res);
          proxyRes.on('end', resolve);
          proxyRes.on('error', reject);
        },
      );
      proxyReq.on('error', reject);
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

  async #adminInvoke(name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = (await readBody(req)).toString('utf8');
    let payload: unknown;
    try {
      payload = text === '' ? null : JSON.parse(text);
    } catch {
      payload = null;
    }
    if (payload === null || typeof payload !== 'object') {
      res.statusCode = 400;
      res.end();
      return;
    }
    const fn = [...this.options.host.functions.values()].find((f) => f.name.toLowerCase() === name.toLowerCase());
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

function adminInputData(input: unknown): { string: string } {
  return { string: typeof input === 'string' ? input : JSON.stringify(input ?? '') };
}

/** What the host puts in trigger metadata for HTTP; the library reads it only when streaming. */
function httpTriggerMetadata(url: URL, headers: Record<string, string>, params: Record<string, string>) {
  const metadata: Record<string, { string?: string; json?: string }> = {
    Query: { json: JSON.stringify(queryValues(url)) },
    Headers: { json: JSON.stringify(headers) },
  };
  for (const [key, value] of Object.entries(params)) metadata[key] = { string: value };
  return metadata;
}

/** The http output binding's value: the return value for `$return`, else the named output. */
function httpOutput(fn: RegisteredFunction, response: RpcInvocationResponse): RpcHttpData | undefined {
  for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
    if (binding.direction !== 'out' || String(binding.type).toLowerCase() !== 'http') continue;
    const data = name === '$return' ? response.returnValue : response.outputData?.find((o) => o.name === name)?.data;
    return data?.http ?? undefined;
  }
  return undefined;
}
