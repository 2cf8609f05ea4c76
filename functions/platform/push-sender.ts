import https from "node:https";
import net, { isIP } from "node:net";
import type { PushSender } from "../../domain/notifications/channel-deliveries.js";
import type { Settings } from "./settings.js";
import { assertPublicDestination, guardedLookup, isPrivateAddress } from "./webhook-sender.js";

// A push message's time to live at the push service (a day: a notification later than that is stale), and how
// long one send may take.
const TTL_S = 24 * 3600;
const TIMEOUT_MS = 10_000;

/** Push is on when the app has its VAPID key pair. */
export const pushEnabled = (s: Settings): boolean => Boolean(s.WEB_PUSH_VAPID_PUBLIC_KEY && s.WEB_PUSH_VAPID_PRIVATE_KEY);

/** Whether an endpoint is under the development push service's origin (the local runtime's, plain http). */
export const isDevelopmentEndpoint = (s: Settings, endpoint: string): boolean =>
  Boolean(s.WEB_PUSH_DEVELOPMENT_ORIGIN) && URL.canParse(endpoint) && new URL(endpoint).origin === new URL(s.WEB_PUSH_DEVELOPMENT_ORIGIN as string).origin;

/**
 * Why an endpoint may not be registered, or null when it may: https, not localhost, not a private or loopback
 * address, and a name that resolves to public addresses now (each push checks again at connect time). Endpoints
 * under the development push service's origin are allowed as they are.
 */
export async function pushEndpointRefusal(s: Settings, endpoint: string): Promise<string | null> {
  if (isDevelopmentEndpoint(s, endpoint)) return null;
  if (!URL.canParse(endpoint)) return "not a URL";
  const url = new URL(endpoint);
  if (url.protocol !== "https:") return "push endpoints must use https";
  if (url.username || url.password) return "push endpoints carry no credentials";
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) return `${host} is not a public host`;
  try {
    await assertPublicDestination(endpoint, false);
    return null;
  } catch (err) {
    // A private address, or a name that does not resolve: either way no push service answers there.
    return err instanceof Error ? err.message.slice(0, 200) : "the host does not resolve";
  }
}

/**
 * web-push always speaks https through `https.request`; the development push service is plain http on loopback,
 * so its agent hands the request a plain TCP socket instead of a TLS one.
 */
class PlainHttpAgent extends https.Agent {
  override createConnection(options: https.RequestOptions) {
    return net.createConnection({ host: options.hostname ?? options.host ?? "127.0.0.1", port: Number(options.port) });
  }
}

/**
 * Web Push with VAPID (the `web-push` package). Pushes to the public internet go through an agent whose DNS
 * lookup refuses private addresses at connect time (rebinding); IP-literal endpoints are checked here. web-push
 * (with its JWT and ASN.1 modules) loads with the first push, not with the app.
 */
export function createPushSender(s: Settings): PushSender {
  const publicAgent = new https.Agent({ keepAlive: true, maxSockets: 64, lookup: guardedLookup(false) });
  const developmentAgent = new PlainHttpAgent({ keepAlive: true });
  return {
    async send(target, payload) {
      if (!pushEnabled(s)) return { ok: false, error: "Web Push is not configured (no VAPID keys)" };
      const development = isDevelopmentEndpoint(s, target.endpoint);
      const url = new URL(target.endpoint);
      const host = url.hostname.replace(/^\[|\]$/g, "");
      if (!development && (url.protocol !== "https:" || (isIP(host) && isPrivateAddress(host)))) return { ok: false, error: "the endpoint is not a public https URL", gone: true };
      const { default: webpush } = await import("web-push");
      try {
        const res = await webpush.sendNotification({ endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } }, JSON.stringify(payload), {
          vapidDetails: { subject: s.WEB_PUSH_SUBJECT, publicKey: s.WEB_PUSH_VAPID_PUBLIC_KEY as string, privateKey: s.WEB_PUSH_VAPID_PRIVATE_KEY as string },
          TTL: TTL_S,
          urgency: payload.urgent ? "high" : "normal",
          topic: undefined,
          timeout: TIMEOUT_MS,
          agent: development ? developmentAgent : publicAgent,
        });
        return { ok: true, messageId: typeof res.headers.location === "string" ? res.headers.location.slice(0, 500) : null };
      } catch (err) {
        if (err instanceof webpush.WebPushError) {
          // RFC 8030 §7.3: 404 or 410, the subscription is gone for good.
          if (err.statusCode === 404 || err.statusCode === 410) return { ok: false, error: `the push service answered ${err.statusCode}`, gone: true };
          const retryAfter = Number(err.headers["retry-after"]);
          return { ok: false, error: `the push service answered ${err.statusCode}`, ...(err.statusCode === 429 && retryAfter > 0 ? { retryAfterSeconds: Math.min(retryAfter, 24 * 3600) } : {}) };
        }
        throw err;
      }
    },
  };
}
