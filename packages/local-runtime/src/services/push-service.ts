// A development Web Push service (RFC 8030) for the real `web-push` library, on plain HTTP on loopback. The runtime
// acts as the browser too: `createSubscription()` makes the P-256 key pair and auth secret a browser would, keeps the
// private half, and decrypts what is pushed (RFC 8291, aes128gcm, with `http_ece`) after checking VAPID (RFC 8292).
// Messages are kept in memory for the mailbox page (`mailbox-page.ts`).
import { createECDH, createPublicKey, randomBytes, randomUUID, verify, type ECDH } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { httpOrigin, listenOnLoopback, readLimited, runtimeSlot, serverStopper, settingsWithValue } from "./loopback-http.js";

export interface StoredPush {
  id: string;
  /** ISO 8601, when the service accepted the message. */
  receivedAt: string;
  subscriptionId: string;
  endpoint: string;
  ttl: number;
  urgency: "very-low" | "low" | "normal" | "high";
  topic: string | null;
  /** The decrypted payload as UTF-8 text; null for a push without payload. */
  payload: string | null;
  /** The VAPID JWT's `sub` claim (mailto: or https: contact of the sender). */
  vapidSubject: string;
}

/** A browser's `PushSubscription.toJSON()` (keys base64url). */
export interface BrowserPushSubscription {
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
}

export interface PushServiceOptions {
  /** 0 (default) = a free port. */
  port?: number;
  host?: string;
  /** The ring keeps the newest this many messages (default 500). */
  maxMessages?: number;
}

export interface PushService {
  /** `http://<host>:<port>`: the VAPID audience of every endpoint here. */
  origin: string;
  port: number;
  /**
   * What a browser does on `pushManager.subscribe()`. With `applicationServerKey` (base64url, uncompressed P-256),
   * pushes signed with another VAPID key are refused (403), as browsers' push services do.
   */
  createSubscription(options?: { applicationServerKey?: string }): BrowserPushSubscription;
  /** Later pushes to this subscription answer 410 Gone; false when there is no such subscription. */
  expireSubscription(id: string): boolean;
  /** Newest first. */
  messages(): StoredPush[];
  clear(): void;
  stop(): Promise<void>;
}

/** RFC 8030 §7.2 lets services cap payloads; 4096 bytes is what browsers' push services accept. */
const maxPayloadBytes = 4096;
/** RFC 8292 §2: `exp` no further than 24 hours ahead (a minute's grace for clocks). */
const maxVapidLifetimeSeconds = 24 * 60 * 60 + 60;
const urgencies = new Set(["very-low", "low", "normal", "high"]);
const base64url = /^[A-Za-z0-9_-]+$/;

/** The part of http_ece (untyped, CommonJS) used here: aes128gcm decryption with the receiver's ECDH key pair. */
interface HttpEce {
  decrypt(buffer: Buffer, params: { version: "aes128gcm"; privateKey: ECDH; authSecret: Buffer }): Buffer;
}
const ece = createRequire(import.meta.url)("http_ece") as HttpEce;

interface Subscription {
  id: string;
  ecdh: ECDH;
  auth: Buffer;
  applicationServerKey: string | undefined;
  expired: boolean;
}

class PushRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startPushService(options: PushServiceOptions = {}): Promise<PushService> {
  const host = options.host ?? "127.0.0.1";
  const maxMessages = Math.max(1, options.maxMessages ?? 500);
  const subscriptions = new Map<string, Subscription>();
  let stored: StoredPush[] = [];
  let origin = "";

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      const status = error instanceof PushRefusal ? error.status : 500;
      res.statusCode = status;
      res.setHeader("content-type", "text/plain; charset=utf-8");
      res.end(error instanceof Error ? error.message : "push failed");
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", origin);
    const match = /^\/push\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    const subscription = match ? subscriptions.get(match[1] as string) : undefined;
    if (!subscription) throw new PushRefusal(404, "No such subscription.");
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      throw new PushRefusal(405, "Only POST is allowed.");
    }
    if (subscription.expired) throw new PushRefusal(410, "The subscription has expired or was unsubscribed.");
    const vapidSubject = checkVapid(req, origin, subscription);
    const ttl = parseTtl(single(req, "ttl"));
    const urgency = (single(req, "urgency") ?? "normal").toLowerCase();
    if (!urgencies.has(urgency)) throw new PushRefusal(400, "Urgency must be very-low, low, normal or high.");
    const topic = single(req, "topic") ?? null;
    if (topic !== null && (topic.length > 32 || !base64url.test(topic))) throw new PushRefusal(400, "Topic must be at most 32 base64url characters.");
    const body = await readLimited(req, maxPayloadBytes);
    if (!body) throw new PushRefusal(413, `The payload is over ${maxPayloadBytes} bytes.`);
    let payload: string | null = null;
    if (body.length > 0) {
      if ((req.headers["content-encoding"] ?? "").toLowerCase() !== "aes128gcm") throw new PushRefusal(415, "Content-Encoding must be aes128gcm (RFC 8291).");
      payload = decryptPayload(body, subscription);
    }
    const message: StoredPush = {
      id: randomUUID(),
      receivedAt: new Date().toISOString(),
      subscriptionId: subscription.id,
      endpoint: endpointOf(subscription.id),
      ttl,
      urgency: urgency as StoredPush["urgency"],
      topic,
      payload,
      vapidSubject,
    };
    stored.push(message);
    if (stored.length > maxMessages) stored.splice(0, stored.length - maxMessages);
    res.statusCode = 201;
    res.setHeader("location", `${origin}/message/${message.id}`);
    res.end();
  }

  const endpointOf = (id: string): string => `${origin}/push/${id}`;

  const port = await listenOnLoopback(server, options.port ?? 0, host);
  origin = httpOrigin(host, port);
  return {
    origin,
    port,
    createSubscription(subscribeOptions = {}) {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const id = randomBytes(18).toString("base64url");
      const auth = randomBytes(16);
      subscriptions.set(id, { id, ecdh, auth, applicationServerKey: subscribeOptions.applicationServerKey, expired: false });
      return {
        endpoint: endpointOf(id),
        expirationTime: null,
        keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") },
      };
    },
    expireSubscription(id) {
      const subscription = subscriptions.get(id);
      if (!subscription) return false;
      subscription.expired = true;
      return true;
    },
    messages: () => stored.slice().reverse(),
    clear: () => {
      stored = [];
    },
    stop: serverStopper(server),
  };
}

/**
 * RFC 8292: `Authorization: vapid t=<JWT>, k=<public key>`; the JWT is ES256-signed by k, its `aud` is this push
 * service's origin and its `exp` lies within the next 24 hours. Missing or unverifiable credentials are 401; a valid
 * token that is not good for this service, time or subscription is 403. Returns the `sub` claim.
 */
function checkVapid(req: IncomingMessage, origin: string, subscription: Subscription): string {
  const authorization = req.headers.authorization ?? "";
  const scheme = /^vapid\s+(.*)$/i.exec(authorization);
  if (!scheme) throw new PushRefusal(401, "A VAPID Authorization header (vapid t=..., k=...) is required.");
  const params = new Map<string, string>();
  for (const part of (scheme[1] as string).split(",")) {
    const eq = part.indexOf("=");
    // auth-param values may be quoted strings (RFC 9110 §11.2).
    if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1"));
  }
  const token = params.get("t");
  const publicKey = params.get("k");
  if (!token || !publicKey || !base64url.test(publicKey)) throw new PushRefusal(401, "The VAPID header needs t and k.");
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => base64url.test(p))) throw new PushRefusal(401, "The VAPID token is not a JWT.");
  const [headerPart, claimsPart, signaturePart] = parts as [string, string, string];
  const header = parseJson(headerPart);
  const claims = parseJson(claimsPart);
  if (header?.alg !== "ES256") throw new PushRefusal(401, "The VAPID token must be signed with ES256.");
  const key = Buffer.from(publicKey, "base64url");
  if (key.length !== 65 || key[0] !== 4) throw new PushRefusal(401, "k must be an uncompressed P-256 public key.");
  let verified = false;
  try {
    const jwk = { kty: "EC", crv: "P-256", x: key.subarray(1, 33).toString("base64url"), y: key.subarray(33).toString("base64url") };
    verified = verify(
      "sha256",
      Buffer.from(`${headerPart}.${claimsPart}`),
      { key: createPublicKey({ key: jwk, format: "jwk" }), dsaEncoding: "ieee-p1363" },
      Buffer.from(signaturePart, "base64url"),
    );
  } catch {
    verified = false;
  }
  if (!verified || !claims) throw new PushRefusal(401, "The VAPID token's signature does not verify with k.");
  if (claims.aud !== origin) throw new PushRefusal(403, `The VAPID token's aud must be ${origin}.`);
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== "number" || claims.exp <= now || claims.exp > now + maxVapidLifetimeSeconds) {
    throw new PushRefusal(403, "The VAPID token's exp must lie within the next 24 hours.");
  }
  if (typeof claims.sub !== "string" || !/^(mailto:|https:)/.test(claims.sub)) throw new PushRefusal(403, "The VAPID token's sub must be a mailto: or https: URL.");
  if (subscription.applicationServerKey !== undefined && subscription.applicationServerKey !== publicKey) {
    throw new PushRefusal(403, "The VAPID key is not the subscription's applicationServerKey.");
  }
  return claims.sub;
}

/** A header's value; repeated, its first. */
function single(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseTtl(value: string | undefined): number {
  if (value === undefined || !/^\d{1,10}$/.test(value.trim())) throw new PushRefusal(400, "A TTL header (seconds) is required.");
  return Number(value.trim());
}

function parseJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function decryptPayload(body: Buffer, subscription: Subscription): string {
  try {
    return ece.decrypt(body, { version: "aes128gcm", privateKey: subscription.ecdh, authSecret: subscription.auth }).toString("utf8");
  } catch {
    throw new PushRefusal(400, "The payload does not decrypt with the subscription's keys (RFC 8291, aes128gcm).");
  }
}

// --- The runtime's service: started by backing-services.ts, shown by mailbox-page.ts under /admin/mailbox/push ---
const active = runtimeSlot<PushService>();
export const activePushService = active.get;
export const setActivePushService = active.set;

/** The setting value that asks for the development push service. */
export const developmentPushValue = "UseDevelopmentPush=true";

/** Names of the settings whose value is exactly `UseDevelopmentPush=true` (surrounding blanks ignored). */
export const developmentPushSettings = (env: NodeJS.ProcessEnv): string[] => settingsWithValue(env, developmentPushValue);
