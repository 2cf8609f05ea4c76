// Conversions between Node's HTTP objects and the RPC shapes the host and the library exchange.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RpcHttpCookie, RpcHttpData, RpcNullableString, RpcTypedData } from "./core-types.js";

const emptyBody = Buffer.alloc(0);

/**
 * The whole request body. Event-based (no async iterator) and without a copy when it came in one chunk;
 * synchronous when there is no body, so the caller need not wait a turn for nothing.
 */
export function readBody(req: IncomingMessage): Buffer | Promise<Buffer> {
  if (req.readableEnded) return emptyBody;
  // HTTP/1.1: without Content-Length and Transfer-Encoding a request has no body (Node's parser agrees).
  if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined) {
    req.resume();
    return emptyBody;
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
    });
    req.once("end", () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : chunks.length === 0 ? emptyBody : Buffer.concat(chunks, length)));
    req.once("error", reject);
  });
}

/** Header values as ASP.NET's StringValues.ToString gives them: repeated headers joined by commas. */
export function requestHeaders(req: IncomingMessage): Record<string, string> {
  // rawHeaders keeps every occurrence in arrival order (what headersDistinct is built from), without the extra arrays.
  const headers: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous},${value}`;
  }
  // Azure's front end appends the client address (ip:port) to X-Forwarded-For before the host sees it.
  const address = req.socket.remoteAddress;
  if (address) {
    const client = `${address.includes(":") ? `[${address}]` : address}:${req.socket.remotePort ?? 0}`;
    headers["x-forwarded-for"] = headers["x-forwarded-for"] ? `${headers["x-forwarded-for"]}, ${client}` : client;
  }
  return headers;
}

/** The parts of a request's WHATWG URL the runtime uses (a URL is one). */
export interface RequestUrl {
  href: string;
  pathname: string;
  search: string;
}

// An origin-form target made only of characters the URL parser keeps as they are, with no dot segment
// ("/." or "%2e" anywhere sends it the slow way) and not starting with "//" (which would name a host).
const plainPath = /^\/(?!\/)[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
const dotSegment = /\/\.|%2e/i;
const plainQuery = /^[A-Za-z0-9\-._~!$&()*+,;=:@/?%]*$/;
// A lower-case host name whose labels start with a letter (so never read as an IPv4 number) or a dotted
// quad in canonical form, with a port other than the default one.
const plainHost =
  /^(?:(?!xn--)[a-z][a-z0-9-]*(?:\.(?!xn--)[a-z][a-z0-9-]*)*|(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))(?::([1-9]\d{0,4}))?$/;

/**
 * The request URL as `new URL(target, 'http://' + host)` gives it, without running the URL parser for the
 * plain targets that make up nearly all requests: for those the parser would return the text unchanged.
 * Anything else (percent-encoding to add, dot segments, upper-case or unusual hosts, absolute form) is
 * parsed by URL itself.
 */
export function requestUrl(target: string, host: string): RequestUrl {
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? "" : target.slice(q + 1);
  const port = plainHost.exec(host)?.[1];
  const plain =
    plainPath.test(path) &&
    !dotSegment.test(path) &&
    (q < 0 || plainQuery.test(query)) &&
    plainHost.test(host) &&
    (port === undefined || (port !== "80" && Number(port) <= 65535));
  if (!plain) return new URL(target, `http://${host}`);
  return { href: `http://${host}${target}`, pathname: path, search: query === "" ? "" : `?${query}` };
}

export function queryValues(url: { search: string }): Record<string, string> {
  const query: Record<string, string> = {};
  if (url.search === "") return query;
  for (const [key, value] of new URLSearchParams(url.search)) {
    const previous = query[key];
    query[key] = previous === undefined ? value : `${previous},${value}`;
  }
  return query;
}

function nullable(map: Record<string, string>): Record<string, RpcNullableString> {
  const result: Record<string, RpcNullableString> = {};
  for (const key in map) result[key] = { value: map[key] as string };
  return result;
}

/**
 * The RpcHttp the host sends to a worker that declared RawHttpBodyBytes, RpcHttpBodyOnly and
 * UseNullableValueDictionaryForHttp (as the Node worker does): nullable maps, the body as bytes, no rawBody.
 */
export function toRpcHttpRequest(opts: {
  method: string;
  url: RequestUrl;
  headers: Record<string, string>;
  params: Record<string, string>;
  body: Buffer;
}): RpcHttpData {
  const http: RpcHttpData = {
    method: opts.method,
    url: opts.url.href,
    nullableHeaders: nullable(opts.headers),
    nullableQuery: nullable(queryValues(opts.url)),
    nullableParams: nullable(opts.params),
  };
  // A Buffer is a Uint8Array; the library copies the bytes itself (Buffer.from), so no copy here.
  if (opts.body.length > 0) http.body = { bytes: opts.body };
  return http;
}

/** A Buffer over the same memory (no copy). */
function bufferView(bytes: Uint8Array): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes;
  return ArrayBuffer.isView(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.from(bytes);
}

export function typedDataToBuffer(data: RpcTypedData | null | undefined): Buffer {
  if (!data) return Buffer.alloc(0);
  if (data.bytes) return bufferView(data.bytes);
  if (data.stream) return bufferView(data.stream);
  if (typeof data.string === "string") return Buffer.from(data.string, "utf8");
  if (typeof data.json === "string") return Buffer.from(data.json, "utf8");
  if (typeof data.int === "number") return Buffer.from(String(data.int));
  if (typeof data.double === "number") return Buffer.from(String(data.double));
  return Buffer.alloc(0);
}

/** Set-Cookie as ASP.NET Core writes it (lowercase attributes, path defaulting to "/"). */
export function serializeCookie(cookie: RpcHttpCookie): string {
  const parts = [`${cookie.name ?? ""}=${encodeURIComponent(cookie.value ?? "")}`];
  const expires = cookie.expires?.value;
  if (expires && typeof expires.seconds === "number") {
    parts.push(`expires=${new Date(expires.seconds * 1000 + Math.floor((expires.nanos ?? 0) / 1e6)).toUTCString()}`);
  }
  const maxAge = cookie.maxAge?.value;
  if (typeof maxAge === "number") parts.push(`max-age=${Math.trunc(maxAge)}`);
  if (cookie.domain?.value) parts.push(`domain=${cookie.domain.value}`);
  parts.push(`path=${cookie.path?.value || "/"}`);
  if (cookie.secure?.value) parts.push("secure");
  if (cookie.sameSite === "lax" || cookie.sameSite === "strict") parts.push(`samesite=${cookie.sameSite}`);
  else if (cookie.sameSite === "explicitNone") parts.push("samesite=none");
  if (cookie.httpOnly?.value) parts.push("httponly");
  return parts.join("; ");
}

export function writeRpcHttpResponse(res: ServerResponse, http: RpcHttpData | null | undefined): void {
  if (!http) {
    // No response from the function: the host's invocation middleware answers 200 with no body.
    res.statusCode = 200;
    res.end();
    return;
  }
  const status = Number.parseInt(http.statusCode ?? "200", 10);
  res.statusCode = Number.isFinite(status) ? status : 200;
  for (const [name, value] of Object.entries(http.headers ?? {})) {
    if (name.toLowerCase() === "set-cookie") continue;
    res.setHeader(name, value);
  }
  const cookies = (http.cookies ?? []).map(serializeCookie);
  const setCookie = http.headers?.["set-cookie"];
  if (setCookie) cookies.unshift(setCookie);
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  // One writev either way (end() corks the socket): headers and body leave together.
  res.end(typedDataToBuffer(http.body));
}
