// Conversions between Node's HTTP objects and the RPC shapes the host and the library exchange.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RpcHttpCookie, RpcHttpData, RpcNullableString, RpcTypedData } from './core-types.js';

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Header values as ASP.NET's StringValues.ToString gives them: repeated headers joined by commas. */
export function requestHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values) headers[name.toLowerCase()] = values.join(',');
  }
  // Azure's front end appends the client address (ip:port) to X-Forwarded-For before the host sees it.
  const address = req.socket.remoteAddress;
  if (address) {
    const client = `${address.includes(':') ? `[${address}]` : address}:${req.socket.remotePort ?? 0}`;
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${client}` : client;
  }
  return headers;
}

export function queryValues(url: URL): Record<string, string> {
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key).join(',');
  return query;
}

function nullable(map: Record<string, string>): Record<string, RpcNullableString> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, { value: v }]));
}

/**
 * The RpcHttp the host sends to a worker that declared RawHttpBodyBytes, RpcHttpBodyOnly and
 * UseNullableValueDictionaryForHttp (as the Node worker does): nullable maps, the body as bytes, no rawBody.
 */
export function toRpcHttpRequest(opts: {
  method: string;
  url: URL;
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
  if (opts.body.length > 0) http.body = { bytes: new Uint8Array(opts.body) };
  return http;
}

export function typedDataToBuffer(data: RpcTypedData | null | undefined): Buffer {
  if (!data) return Buffer.alloc(0);
  if (data.bytes) return Buffer.from(data.bytes);
  if (data.stream) return Buffer.from(data.stream);
  if (typeof data.string === 'string') return Buffer.from(data.string, 'utf8');
  if (typeof data.json === 'string') return Buffer.from(data.json, 'utf8');
  if (typeof data.int === 'number') return Buffer.from(String(data.int));
  if (typeof data.double === 'number') return Buffer.from(String(data.double));
  return Buffer.alloc(0);
}

/** Set-Cookie as ASP.NET Core writes it (lowercase attributes, path defaulting to "/"). */
export function serializeCookie(cookie: RpcHttpCookie): string {
  const parts = [`${cookie.name ?? ''}=${encodeURIComponent(cookie.value ?? '')}`];
  const expires = cookie.expires?.value;
  if (expires && typeof expires.seconds === 'number') {
    parts.push(`expires=${new Date(expires.seconds * 1000 + Math.floor((expires.nanos ?? 0) / 1e6)).toUTCString()}`);
  }
  const maxAge = cookie.maxAge?.value;
  if (typeof maxAge === 'number') parts.push(`max-age=${Math.trunc(maxAge)}`);
  if (cookie.domain?.value) parts.push(`domain=${cookie.domain.value}`);
  parts.push(`path=${cookie.path?.value || '/'}`);
  if (cookie.secure?.value) parts.push('secure');
  if (cookie.sameSite === 'lax' || cookie.sameSite === 'strict') parts.push(`samesite=${cookie.sameSite}`);
  else if (cookie.sameSite === 'explicitNone') parts.push('samesite=none');
  if (cookie.httpOnly?.value) parts.push('httponly');
  return parts.join('; ');
}

export function writeRpcHttpResponse(res: ServerResponse, http: RpcHttpData | null | undefined): void {
  if (!http) {
    // No response from the function: the host's invocation middleware answers 200 with no body.
    res.statusCode = 200;
    res.end();
    return;
  }
  const status = Number.parseInt(http.statusCode ?? '200', 10);
  res.statusCode = Number.isFinite(status) ? status : 200;
  for (const [name, value] of Object.entries(http.headers ?? {})) {
    if (name.toLowerCase() === 'set-cookie') continue;
    res.setHeader(name, value);
  }
  const cookies = (http.cookies ?? []).map(serializeCookie);
  const setCookie = http.headers?.['set-cookie'];
  if (setCookie) cookies.unshift(setCookie);
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  res.end(typedDataToBuffer(http.body));
}
