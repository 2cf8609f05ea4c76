// A development stand-in for Azure OpenAI's chat completions: `POST /openai/deployments/{deployment}/chat/completions
// ?api-version=...`, answered like the service (chat.completion objects, errors in its shape, 429 with Retry-After)
// for the official `openai` package's AzureOpenAI client, over plain HTTP on loopback. It asks for an `api-key`
// header or a bearer token. Unscripted, it answers valid items in the requested structured-output shape
// (openai-items.ts); scripted answers (openai-admin.ts: malformed items, answers that are not JSON, 429s, 500s) are
// used first, one per request. The runtime starts it for settings that are exactly `UseDevelopmentOpenAI=true`.
import { randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { itemsAnswer } from "./openai-items.js";
import { httpOrigin, listenOnLoopback, readLimited, runtimeSlot, serverStopper, settingsWithValue } from "./loopback-http.js";

/** One scripted answer. `status` 429 answers a rate limit (Retry-After `retryAfterSeconds`, 1 by default). */
export interface ScriptedAnswer {
  status?: number;
  retryAfterSeconds?: number;
  /** Indexes (from 0) of the answer's items that break an item rule. */
  malformedItems?: number[];
  /** Answer text that is not JSON. */
  invalidJson?: boolean;
  /** The message content exactly as given. */
  content?: string;
}

export interface SeenRequest {
  /** ISO 8601, when the request arrived. */
  at: string;
  deployment: string;
  apiVersion: string;
  auth: "api-key" | "bearer";
  /** The user message's first line (the ask). */
  ask: string;
  responseFormat: { type: string; name: string | null; strict: boolean | null } | null;
  status: number;
}

export interface OpenAIStandIn {
  /** `http://<host>:<port>`, what AZURE_OPENAI_ENDPOINT becomes. */
  endpoint: string;
  port: number;
  script(answers: ScriptedAnswer[]): number;
  /** Oldest first. */
  requests(): SeenRequest[];
  reset(): void;
  stop(): Promise<void>;
}

const maxBodyBytes = 4 * 1024 * 1024;
const maxRequests = 1000;

export async function startOpenAIStandIn(options: { port?: number; host?: string } = {}): Promise<OpenAIStandIn> {
  const host = options.host ?? "127.0.0.1";
  const scripted: ScriptedAnswer[] = [];
  const seen: SeenRequest[] = [];

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: { code: "InternalServerError", message: String(err) } }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = /^\/openai\/deployments\/([^/]+)\/chat\/completions\/?$/.exec(url.pathname);
    if (!route) return send(res, 404, { error: { code: "404", message: "Resource not found" } });
    if (req.method !== "POST") return send(res, 405, { error: { code: "405", message: "Method not allowed" } });
    const apiVersion = url.searchParams.get("api-version") ?? "";
    if (!apiVersion) return send(res, 404, { error: { code: "404", message: "Resource not found" } });
    const apiKey = String(req.headers["api-key"] ?? "");
    const bearer = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
    if (!apiKey && !bearer) {
      return send(res, 401, { error: { code: "401", message: "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource." } });
    }
    const raw = await readLimited(req, maxBodyBytes);
    if (!raw) return send(res, 413, { error: { message: "The request body is too large.", type: "invalid_request_error", param: null, code: null } });
    let body: { messages?: { role?: string; content?: unknown }[]; response_format?: { type?: string; json_schema?: { name?: string; strict?: boolean; schema?: unknown } } };
    try {
      body = JSON.parse(raw.toString("utf8")) as typeof body;
    } catch {
      return send(res, 400, invalid("We could not parse the JSON body of your request.", null));
    }
    const user = [...(body.messages ?? [])].reverse().find((m) => m.role === "user");
    const userText = typeof user?.content === "string" ? user.content : "";
    const format = body.response_format;
    const record = (status: number): void => {
      seen.push({
        at: new Date().toISOString(),
        deployment: decodeURIComponent(route[1] as string),
        apiVersion,
        auth: apiKey ? "api-key" : "bearer",
        ask: userText.split("\n")[0] ?? "",
        responseFormat: format ? { type: String(format.type), name: format.json_schema?.name ?? null, strict: format.json_schema?.strict ?? null } : null,
        status,
      });
      if (seen.length > maxRequests) seen.shift();
    };
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      record(400);
      return send(res, 400, invalid("'messages' is a required property", "messages"));
    }
    if (format?.type === "json_schema" && (typeof format.json_schema?.name !== "string" || typeof format.json_schema.schema !== "object")) {
      record(400);
      return send(res, 400, invalid("Invalid schema for response_format: 'json_schema' needs a name and a schema.", "response_format"));
    }
    const next = scripted.shift() ?? {};
    if (next.status === 429) {
      const seconds = next.retryAfterSeconds ?? 1;
      record(429);
      res.setHeader("retry-after", String(seconds));
      res.setHeader("retry-after-ms", String(seconds * 1000));
      return send(res, 429, { error: { code: "429", message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${apiVersion} have exceeded token rate limit of your current pricing tier. Please retry after ${seconds} seconds.` } });
    }
    if (next.status && next.status >= 400) {
      record(next.status);
      return send(res, next.status, { error: { code: String(next.status), message: "The server had an error while processing your request." } });
    }
    const content = next.content ?? (next.invalidJson ? "Here are the items you asked for: {items: [oops" : itemsAnswer(userText, format?.json_schema?.schema, next.malformedItems ?? []));
    record(200);
    send(res, 200, {
      id: `chatcmpl-${randomBytes(12).toString("hex")}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: "gpt-4o-2024-08-06",
      system_fingerprint: "fp_local_standin",
      choices: [{ index: 0, finish_reason: "stop", logprobs: null, message: { role: "assistant", content, refusal: null } }],
      usage: { prompt_tokens: Math.ceil(raw.length / 4), completion_tokens: Math.ceil(content.length / 4), total_tokens: Math.ceil((raw.length + content.length) / 4) },
    });
  }

  const port = await listenOnLoopback(server, options.port ?? 0, host);
  const stop = serverStopper(server);
  return {
    endpoint: httpOrigin(host, port),
    port,
    script: (answers) => scripted.push(...answers),
    requests: () => [...seen],
    reset: () => {
      scripted.length = 0;
      seen.length = 0;
    },
    stop,
  };
}

const invalid = (message: string, param: string | null) => ({ error: { message, type: "invalid_request_error", param, code: null } });

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "x-request-id": randomBytes(8).toString("hex") });
  res.end(text);
}

// --- The runtime's stand-in: started by backing-services.ts, scripted by openai-admin.ts under /admin/openai ---
const active = runtimeSlot<OpenAIStandIn>();
export const activeOpenAIStandIn = active.get;
export const setActiveOpenAIStandIn = active.set;

/** Names of the settings whose value is exactly `UseDevelopmentOpenAI=true`. */
export const developmentOpenAISettings = (env: NodeJS.ProcessEnv): string[] => settingsWithValue(env, "UseDevelopmentOpenAI=true");
