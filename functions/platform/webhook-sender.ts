import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { lookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import type { AttemptOutcome, DeliveryRow, WebhookRow } from "../../domain/webhooks/webhooks.js";
import { signPayload } from "../../domain/webhooks/webhooks.js";

const isPrivateV4 = ([a = 0, b = 0]: number[]): boolean =>
  a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;

/** An IPv6 address as its 8 groups (an embedded dotted IPv4 tail becomes two groups); null when it is not one. */
function ipv6Groups(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.toLowerCase().replace(/%.*$/, "");
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const parse = (part: string) => (part ? part.split(":").map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * Loopback, private (RFC 1918, ULA), link-local, CGNAT, multicast, unspecified and metadata addresses, also when an
 * IPv6 address carries an IPv4 one: mapped (`::ffff:7f00:1`, however written), compatible (`::a.b.c.d`), NAT64
 * (`64:ff9b::/96`), 6to4 (`2002::/16`); local-use NAT64 (`64:ff9b:1::/48`) and Teredo (`2001::/32`) are refused whole.
 */
export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 4) return isPrivateV4(address.split(".").map(Number));
  const g = ipv6Groups(address);
  if (!g) return true; // not an address at all: nothing to connect to safely
  const v4 = (hi: number, lo: number) => isPrivateV4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(5) && (g5 === 0 || g5 === 0xffff)) return v4(g6, g7); // ::/96 (:: and ::1 included) and ::ffff:0:0/96
  if (zeroUpTo(4) && g4 === 0xffff && g5 === 0) return v4(g6, g7); // ::ffff:0:a.b.c.d (SIIT)
  if (g0 === 0x64 && g1 === 0xff9b) return g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0 ? v4(g6, g7) : true;
  if (g0 === 0x2002) return v4(g1, g2);
  if (g0 === 0x2001 && g1 === 0) return true;
  return (g0 & 0xffc0) === 0xfe80 || (g0 & 0xfe00) === 0xfc00 || (g0 & 0xff00) === 0xff00;
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
