// A development SMS endpoint: speaks the Azure Communication Services SMS API (`POST /sms?api-version=...`, HMAC-SHA256
// access-key signatures) closely enough for the real `@azure/communication-sms` SmsClient, over plain HTTP on loopback
// (the SDK signs with the access key and does not insist on TLS). It sends nothing: messages are kept in memory for the
// mailbox page (`mailbox-page.ts`).
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { httpOrigin, listenOnLoopback, readLimited, runtimeSlot, serverStopper, settingsWithValue } from "./loopback-http.js";

export interface StoredSms {
  /** The messageId the endpoint answered with. */
  id: string;
  /** ISO 8601, when the endpoint accepted the message. */
  receivedAt: string;
  from: string;
  /** One recipient: a request to several numbers is stored as one message per number, as ACS sends them. */
  to: string;
  message: string;
  enableDeliveryReport: boolean;
  tag: string | null;
}

export interface SmsEndpointOptions {
  /** 0 (default) = a free port. */
  port?: number;
  host?: string;
  /** The ring keeps the newest this many messages (default 500). */
  maxMessages?: number;
  /** Base64 access key; a random one by default. */
  accessKey?: string;
}

export interface SmsEndpoint {
  /** `http://<host>:<port>/` */
  endpoint: string;
  accessKey: string;
  /** `endpoint=http://<host>:<port>/;accesskey=<key>`, what `new SmsClient(connectionString)` takes. */
  connectionString: string;
  port: number;
  /** Newest first. */
  messages(): StoredSms[];
  clear(): void;
  stop(): Promise<void>;
}

/** ACS accepts a request signed up to 15 minutes either side of its clock. */
const maxClockSkewMs = 15 * 60 * 1000;
/** The SDK's own limit on `message` (SendMessageRequest.message MaxLength). */
const maxMessageLength = 2048;
const maxBodyBytes = 1024 * 1024;
const e164 = /^\+[1-9]\d{1,14}$/;
/** An alphanumeric sender ID: up to 11 letters, digits and spaces, at least one letter. */
const alphanumericSender = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;

interface SmsResponseItem {
  to: string;
  messageId?: string;
  httpStatusCode: number;
  repeatabilityResult?: "accepted" | "rejected";
  successful: boolean;
  errorMessage?: string;
}

export async function startSmsEndpoint(options: SmsEndpointOptions = {}): Promise<SmsEndpoint> {
  const host = options.host ?? "127.0.0.1";
  const maxMessages = Math.max(1, options.maxMessages ?? 500);
  const accessKey = options.accessKey ?? randomBytes(32).toString("base64");
  const key = Buffer.from(accessKey, "base64");
  let stored: StoredSms[] = [];
  // repeatabilityRequestId → the answer given the first time, so a retried request sends nothing twice.
  const repeats = new Map<string, SmsResponseItem>();

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendError(res, 500, "InternalServerError", "The development SMS endpoint failed.");
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://local");
    if (url.pathname !== "/sms") return sendError(res, 404, "NotFound", "Resource not found.");
    if (req.method !== "POST") return sendError(res, 405, "MethodNotAllowed", "Only POST is allowed.");
    const body = await readLimited(req, maxBodyBytes);
    if (!body) return sendError(res, 413, "RequestEntityTooLarge", `The request body is over ${maxBodyBytes} bytes.`);
    if (!isSigned(req, url, body, key)) return sendError(res, 401, "Denied", "Denied by the resource provider.");
    if (!url.searchParams.get("api-version")) return sendError(res, 400, "MissingApiVersionParameter", "The api-version query parameter is required.");

    const request = parseRequest(body);
    if (typeof request === "string") return sendError(res, 400, "BadRequest", request);

    const receivedAt = new Date().toISOString();
    const fresh: StoredSms[] = [];
    const value = request.smsRecipients.map((recipient): SmsResponseItem => {
      const repeatKey = recipient.repeatabilityRequestId;
      const earlier = repeatKey ? repeats.get(repeatKey) : undefined;
      // Repeatable requests (OData): a repeated id is not executed again; the first answer stands, marked rejected.
      if (earlier) return { ...earlier, repeatabilityResult: "rejected" };
      let item: SmsResponseItem;
      if (!e164.test(recipient.to)) {
        item = { to: recipient.to, httpStatusCode: 400, repeatabilityResult: "accepted", successful: false, errorMessage: "Invalid To phone number format." };
      } else {
        const messageId = `Outgoing_${receivedAt.replace(/\D/g, "").slice(0, 14)}${randomUUID().replace(/-/g, "")}_noam`;
        fresh.push({
          id: messageId,
          receivedAt,
          from: request.from,
          to: recipient.to,
          message: request.message,
          enableDeliveryReport: request.smsSendOptions?.enableDeliveryReport ?? false,
          tag: request.smsSendOptions?.tag ?? null,
        });
        item = { to: recipient.to, messageId, httpStatusCode: 202, repeatabilityResult: "accepted", successful: true };
      }
      if (repeatKey) repeats.set(repeatKey, item);
      return item;
    });
    stored.push(...fresh);
    if (stored.length > maxMessages) stored.splice(0, stored.length - maxMessages);
    // The repeatability window is bounded too (ACS keeps ids for a limited time).
    for (const oldest of repeats.keys()) {
      if (repeats.size <= maxMessages * 4) break;
      repeats.delete(oldest);
    }
    sendJson(res, 202, { value });
  }

  const port = await listenOnLoopback(server, options.port ?? 0, host);
  const endpoint = `${httpOrigin(host, port)}/`;
  return {
    endpoint,
    accessKey,
    connectionString: `endpoint=${endpoint};accesskey=${accessKey}`,
    port,
    messages: () => stored.slice().reverse(),
    clear: () => {
      stored = [];
    },
    stop: serverStopper(server),
  };
}

interface SendMessageRequest {
  from: string;
  smsRecipients: { to: string; repeatabilityRequestId?: string }[];
  message: string;
  smsSendOptions?: { enableDeliveryReport?: boolean; tag?: string };
}

/** The request body, or what is wrong with it. */
function parseRequest(body: Buffer): SendMessageRequest | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return "The request body is not valid JSON.";
  }
  if (!isRecord(parsed)) return "The request body must be a JSON object.";
  const { from, smsRecipients, message, smsSendOptions } = parsed;
  if (typeof from !== "string" || !(e164.test(from) || alphanumericSender.test(from))) return "Invalid From phone number format.";
  if (typeof message !== "string") return "The message field is required.";
  if (message.length > maxMessageLength) return `The message is longer than ${maxMessageLength} characters.`;
  if (!Array.isArray(smsRecipients) || smsRecipients.length === 0) return "At least one recipient is required.";
  const recipients: SendMessageRequest["smsRecipients"] = [];
  for (const recipient of smsRecipients as unknown[]) {
    if (!isRecord(recipient) || typeof recipient.to !== "string") return "Each recipient needs a to phone number.";
    const id = recipient.repeatabilityRequestId;
    if (id !== undefined && typeof id !== "string") return "repeatabilityRequestId must be a string.";
    recipients.push({ to: recipient.to, ...(id ? { repeatabilityRequestId: id } : {}) });
  }
  if (smsSendOptions !== undefined && !isRecord(smsSendOptions)) return "smsSendOptions must be an object.";
  const tag = smsSendOptions?.tag;
  const report = smsSendOptions?.enableDeliveryReport;
  if (tag !== undefined && typeof tag !== "string") return "smsSendOptions.tag must be a string.";
  if (report !== undefined && typeof report !== "boolean") return "smsSendOptions.enableDeliveryReport must be a boolean.";
  return { from, message, smsRecipients: recipients, smsSendOptions: { ...(report !== undefined ? { enableDeliveryReport: report } : {}), ...(tag !== undefined ? { tag } : {}) } };
}

/**
 * ACS's access-key scheme (as @azure/communication-common signs): the content hash matches the body, the date is
 * recent, and the HMAC-SHA256 of `VERB\npath?query\ndate;host;contentHash` under the base64-decoded key matches.
 */
function isSigned(req: IncomingMessage, url: URL, body: Buffer, key: Buffer): boolean {
  const date = header(req, "x-ms-date");
  const contentHash = header(req, "x-ms-content-sha256");
  const authorization = header(req, "authorization");
  const host = header(req, "host");
  if (!date || !contentHash || !authorization || !host) return false;
  const sentAt = Date.parse(date);
  if (Number.isNaN(sentAt) || Math.abs(Date.now() - sentAt) > maxClockSkewMs) return false;
  if (!safeEqual(contentHash, createHash("sha256").update(body).digest("base64"))) return false;
  const match = /^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=(\S+)$/.exec(authorization);
  if (!match) return false;
  const query = url.searchParams.toString();
  const stringToSign = `${(req.method ?? "").toUpperCase()}\n${query ? `${url.pathname}?${query}` : url.pathname}\n${date};${host};${contentHash}`;
  return safeEqual(match[1] as string, createHmac("sha256", key).update(stringToSign, "utf8").digest("base64"));
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(body));
}

/** ACS's error body: `{ "error": { "code", "message" } }`. */
function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

// --- The runtime's endpoint: started by backing-services.ts, shown by mailbox-page.ts under /admin/mailbox/sms ---
const active = runtimeSlot<SmsEndpoint>();
export const activeSmsEndpoint = active.get;
export const setActiveSmsEndpoint = active.set;

/** The setting value that asks for the development SMS endpoint. */
export const developmentSmsValue = "UseDevelopmentSms=true";

/** Names of the settings whose value is exactly `UseDevelopmentSms=true` (surrounding blanks ignored). */
export const developmentSmsSettings = (env: NodeJS.ProcessEnv): string[] => settingsWithValue(env, developmentSmsValue);
