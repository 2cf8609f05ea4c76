// The local runtime's development SMS endpoint and push service, as the mailbox (mailbox.ts) is for mail: the runtime
// starts them when the app's SmsAcs is `UseDevelopmentSms=true` and WEB_PUSH_DEVELOPMENT_ORIGIN is
// `UseDevelopmentPush=true` (the sample's values). Tests read what the app sent from `/admin/mailbox/sms` and
// `/admin/mailbox/push` (newest 500 each; each test file's app has its own), and subscribe to push as a browser
// would through `/admin/push/subscriptions` (the runtime keeps the private key and decrypts what is pushed).
import type { StoredSms } from "@ringlet/local-runtime/sms-endpoint";
import type { BrowserPushSubscription, StoredPush } from "@ringlet/local-runtime/push-service";
import type { RunningApp } from "./app.js";
import { recentErrors, waitFor } from "./wait-for.js";

export type { BrowserPushSubscription, StoredPush, StoredSms };

async function getList<T>(app: RunningApp, list: "sms" | "push", setting: string): Promise<T[]> {
  const res = await fetch(`${app.baseUrl}/admin/mailbox/${list}`);
  // 404: the service does not run, i.e. the test gave the app a setting of its own.
  if (res.status !== 200) throw new Error(`the development ${list} inbox answered ${res.status} (is ${setting}?)`);
  return (await res.json()) as T[];
}

/** Every text message the app sent, newest first. */
export function smsMessages(app: RunningApp): Promise<StoredSms[]> {
  return getList<StoredSms>(app, "sms", "SmsAcs UseDevelopmentSms=true");
}

/** The oldest text message to `to` (E.164) that satisfies `predicate`, once it has arrived. */
export function waitForSms(app: RunningApp, to: string, predicate: (sms: StoredSms) => boolean = () => true, options: { timeoutMs?: number } = {}): Promise<StoredSms> {
  return waitFor(`a text message to ${to}`, async () => (await smsMessages(app)).reverse().find((m) => m.to === to && predicate(m)), {
    // Under vitest's 30 s test timeout, so a missing message fails with its own message and the runtime's errors.
    timeoutMs: options.timeoutMs ?? 20_000,
    diagnostics: () => recentErrors(app),
  });
}

/** Every push message the app sent (payloads decrypted), newest first. */
export function pushMessages(app: RunningApp): Promise<StoredPush[]> {
  return getList<StoredPush>(app, "push", "WEB_PUSH_DEVELOPMENT_ORIGIN UseDevelopmentPush=true");
}

/** The oldest push message to the subscription `endpoint` that satisfies `predicate`, once it has arrived. */
export function waitForPush(app: RunningApp, endpoint: string, predicate: (push: StoredPush) => boolean = () => true, options: { timeoutMs?: number } = {}): Promise<StoredPush> {
  return waitFor(`a push message to ${endpoint}`, async () => (await pushMessages(app)).reverse().find((m) => m.endpoint === endpoint && predicate(m)), {
    timeoutMs: options.timeoutMs ?? 20_000,
    diagnostics: () => recentErrors(app),
  });
}

/**
 * A push subscription as a browser's `PushSubscription.toJSON()`: `{ endpoint, expirationTime, keys: { p256dh, auth } }`,
 * ready for `POST /v1/me/push-subscriptions`. With `applicationServerKey` (the app's VAPID public key, base64url),
 * pushes signed with another key are refused, as browsers' push services do.
 */
export async function browserPushSubscription(app: RunningApp, options: { applicationServerKey?: string } = {}): Promise<BrowserPushSubscription> {
  const res = await fetch(`${app.baseUrl}/admin/push/subscriptions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(options),
  });
  if (res.status !== 201) throw new Error(`POST /admin/push/subscriptions answered ${res.status} (is WEB_PUSH_DEVELOPMENT_ORIGIN UseDevelopmentPush=true?)`);
  return (await res.json()) as BrowserPushSubscription;
}

/** Later pushes to this subscription answer 410 Gone (as when a user unsubscribes or the browser drops it). */
export async function expirePushSubscription(app: RunningApp, endpoint: string): Promise<void> {
  const id = new URL(endpoint).pathname.split("/").pop() ?? "";
  const res = await fetch(`${app.baseUrl}/admin/push/subscriptions/${encodeURIComponent(id)}/expire`, { method: "POST" });
  if (res.status !== 204) throw new Error(`expiring push subscription ${endpoint} answered ${res.status}`);
}
