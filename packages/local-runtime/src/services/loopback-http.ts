// What the runtime's small development HTTP services (sms-endpoint.ts, push-service.ts) share: listening on loopback,
// stopping, bounded bodies, finding the settings that ask for them, and the one instance the runtime runs.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Listens on `host:port` (0 = a free port) and resolves to the port. */
export function listenOnLoopback(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** A stop function: closes the server and its open (keep-alive) connections; calling it again waits for the first. */
export function serverStopper(server: Server): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
}

/** `http://host:port`, with brackets for an IPv6 host. */
export const httpOrigin = (host: string, port: number): string => `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

/** The body, or undefined when it is over `limit` bytes (the rest is drained so the refusal reaches the client). */
export async function readLimited(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers["content-length"] ?? "0");
  const chunks: Buffer[] = [];
  let size = 0;
  let over = declared > limit;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) over = true;
    if (!over) chunks.push(chunk);
  }
  return over ? undefined : Buffer.concat(chunks, size);
}

/** A JSON object body ({} when empty), or what is wrong with it (over `limit` bytes, or not a JSON object). */
export async function jsonObjectBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown> | string> {
  const raw = await readLimited(req, limit);
  if (!raw) return `The body is over ${limit / 1024} KiB.`;
  const text = raw.toString("utf8").trim();
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Falls through to the refusal.
  }
  return "The body must be a JSON object.";
}

/** Answers `status` with `body` as JSON, or with no body when it is undefined; true, for handlers that answered. */
export function answerJson(res: ServerResponse, status: number, body: unknown): true {
  res.statusCode = status;
  if (body !== undefined) {
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.end(JSON.stringify(body));
  } else res.end();
  return true;
}

/** Names of the settings whose value is exactly `value` (surrounding blanks ignored), e.g. `UseDevelopmentSms=true`. */
export function settingsWithValue(env: NodeJS.ProcessEnv, value: string): string[] {
  return Object.keys(env).filter((name) => env[name]?.trim() === value);
}

/** The runtime's one instance of a service: set by backing-services.ts, read by the HTTP server's admin routes. */
export function runtimeSlot<T>(): { get(): T | undefined; set(value: T | undefined): void } {
  let current: T | undefined;
  return {
    get: () => current,
    set: (value) => {
      current = value;
    },
  };
}
