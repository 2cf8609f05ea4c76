import { lookup } from "node:dns/promises";
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

/**
 * Refuses endpoints that resolve to private, loopback or link-local addresses (server-side request
 * forgery into the platform's own network), unless development allows them. Checked at registration
 * and again before each delivery, since DNS answers can change.
 */
export async function assertPublicDestination(url: string, allowPrivate: boolean): Promise<void> {
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && !(allowPrivate && parsed.protocol === "http:")) throw new ForbiddenDestination("webhook URLs must use https");
  if (allowPrivate) return;
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) throw new ForbiddenDestination(`${host} resolves to a private, loopback or link-local address`);
}

/** One signed POST; the outcome is recorded by the caller. A 2xx answer within the timeout is success. */
export async function sendDelivery(webhook: WebhookRow, delivery: DeliveryRow, options: { timeoutMs: number; allowPrivate: boolean; now: Date }): Promise<AttemptOutcome> {
  const started = performance.now();
  const body = JSON.stringify(delivery.payload);
  try {
    await assertPublicDestination(webhook.url, options.allowPrivate);
    const res = await fetch(webhook.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: {
        "content-type": "application/json",
        "user-agent": "Ringlet-Webhooks/1",
        "ringlet-event-id": delivery.eventId,
        "ringlet-event-type": delivery.eventType,
        "ringlet-delivery-id": delivery.id,
        "ringlet-signature": signPayload(webhook.secret, Math.floor(options.now.getTime() / 1000), body),
      },
      body,
    });
    // A small answer is read to its end so the connection goes back to the pool; a large one is not worth it.
    const length = Number(res.headers.get("content-length") ?? Infinity);
    if (length <= 64 * 1024) await res.arrayBuffer();
    else await res.body?.cancel();
    const ok = res.status >= 200 && res.status < 300;
    return { ok, statusCode: res.status, latencyMs: performance.now() - started, error: ok ? null : `answered ${res.status}` };
  } catch (err) {
    const e = err as Error;
    const error = e.name === "TimeoutError" ? `no answer within ${options.timeoutMs} ms` : e.message;
    return { ok: false, statusCode: null, latencyMs: performance.now() - started, error };
  }
}
