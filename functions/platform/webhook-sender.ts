import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { lookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import type { AttemptOutcome, DeliveryRow, WebhookRow } from "../../domain/webhooks/webhooks.js";
import { signPayload } from "../../domain/webhooks/webhooks.js";

/** Loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified and metadata addresses. */
export function isPrivateAddress(address: string): boolean {
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (isIP(v4) === 4) {
    const [a = 0, b = 0] = v4.split(".").map(Number);
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
  }
  const v6 = address.toLowerCase();
  return v6 === "::" || v6 === "::1" || v6.startsWith("fe8") || v6.startsWith("fe9") || v6.startsWith("fea") || v6.startsWith("feb") || v6.startsWith("fc") || v6.startsWith("fd");
}

export class ForbiddenDestination extends Error {}

/** The URL, when its scheme is allowed: https, or http too where development allows private targets. */
function allowedUrl(url: string, allowPrivate: boolean): URL {
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && !(allowPrivate && parsed.protocol === "http:")) throw new ForbiddenDestination("webhook URLs must use https");
  return parsed;
}

/**
 * Refuses endpoints that resolve to private, loopback or link-local addresses (server-side request
 * forgery into the platform's own network), unless development allows them. Checked at registration
 * and again before each delivery, since DNS answers can change.
 */
export async function assertPublicDestination(url: string, allowPrivate: boolean): Promise<void> {
  const parsed = allowedUrl(url, allowPrivate);
  if (allowPrivate) return;
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) throw new ForbiddenDestination(`${host} resolves to a private, loopback or link-local address`);
}

// Kept-alive connections per scheme: an endpoint that takes a burst of deliveries is not handshaken each time.
const agents = { "http:": new http.Agent({ keepAlive: true, maxSockets: 64 }), "https:": new https.Agent({ keepAlive: true, maxSockets: 64 }) };

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * The address check at connect time, on the addresses the socket will actually use: a DNS answer that changes
 * between the check and the connection (rebinding) cannot lead a delivery into a private network.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!allowPrivate && (addresses.length === 0 || addresses.some((a) => isPrivateAddress(a.address)))) {
        return callback(new ForbiddenDestination(`${hostname} resolves to a private, loopback or link-local address`), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

class DeliveryTimeout extends Error {}

/**
 * One signed POST through node:http (fetch's streams cost more than the delivery itself under load); the
 * outcome is recorded by the caller. A 2xx answer within the timeout is success; redirects are not followed.
 */
export async function sendDelivery(webhook: WebhookRow, delivery: DeliveryRow, options: { timeoutMs: number; allowPrivate: boolean; now: Date }): Promise<AttemptOutcome> {
  const started = performance.now();
  const body = JSON.stringify(delivery.payload);
  try {
    const url = allowedUrl(webhook.url, options.allowPrivate);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (!options.allowPrivate && isIP(host) && isPrivateAddress(host)) throw new ForbiddenDestination(`${host} is a private, loopback or link-local address`);
    const statusCode = await new Promise<number>((resolve, reject) => {
      const req = (url.protocol === "https:" ? https : http).request(
        url,
        {
          method: "POST",
          agent: agents[url.protocol as "http:" | "https:"],
          lookup: guardedLookup(options.allowPrivate),
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            "user-agent": "Ringlet-Webhooks/1",
            "ringlet-event-id": delivery.eventId,
            "ringlet-event-type": delivery.eventType,
            "ringlet-delivery-id": delivery.id,
            "ringlet-signature": signPayload(webhook.secret, Math.floor(options.now.getTime() / 1000), body),
          },
        },
        (res) => {
          // A small answer is read to its end so the connection goes back to the pool; a large one is cut off.
          let length = 0;
          res.on("data", (chunk: Buffer) => {
            length += chunk.length;
            if (length > 64 * 1024) res.destroy();
          });
          res.once("end", () => resolve(res.statusCode ?? 0));
          res.once("close", () => resolve(res.statusCode ?? 0));
        },
      );
      const timer = setTimeout(() => req.destroy(new DeliveryTimeout()), options.timeoutMs);
      req.once("close", () => clearTimeout(timer));
      req.once("error", reject);
      req.end(body);
    });
    const ok = statusCode >= 200 && statusCode < 300;
    return { ok, statusCode, latencyMs: performance.now() - started, error: ok ? null : `answered ${statusCode}` };
  } catch (err) {
    const error = err instanceof DeliveryTimeout ? `no answer within ${options.timeoutMs} ms` : (err as Error).message;
    return { ok: false, statusCode: null, latencyMs: performance.now() - started, error };
  }
}
