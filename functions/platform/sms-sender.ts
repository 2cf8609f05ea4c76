import type { SmsSender } from "../../domain/notifications/channel-deliveries.js";
import { defaultAzureCredential } from "./azure-credential.js";
import { lazy } from "./lazy.js";
import { isLoopbackHost, type Settings } from "./settings.js";

/** SMS is on when there is a number to send from and a Communication Services resource to send through. */
export const smsEnabled = (s: Settings): boolean => Boolean(s.SMS_FROM && (s.SmsAcs || s.SmsAcs__endpoint));

/**
 * The local runtime's development SMS endpoint is plain http on loopback; the SDK refuses http unless told, and is
 * told so for loopback only (an Azure endpoint is https).
 */
function isLoopbackEndpoint(connectionString: string): boolean {
  const endpoint = /(?:^|;)\s*endpoint=([^;]+)/i.exec(connectionString)?.[1]?.trim() ?? "";
  return URL.canParse(endpoint) && isLoopbackHost(new URL(endpoint).hostname);
}

/** How long one send may take: well under the lease a claimed row holds (a quarter of it, at most 20 s). */
export const smsTimeoutMs = (leaseSeconds: number): number => Math.min(20_000, Math.floor((leaseSeconds * 1000) / 4));

/**
 * Azure Communication Services SMS: a connection string (locally the runtime's development endpoint), or the
 * resource's endpoint with the managed identity in Azure. Null when SMS is off.
 */
export function createSmsSender(s: Settings): SmsSender | null {
  if (!smsEnabled(s)) return null;
  // The delivery queue owns retries (with backoff, under the row's lease): the SDK's own retries, or a send with no
  // timeout, could outlast the lease, and the retry timer would then send the same SMS again.
  const options = { retryOptions: { maxRetries: 0 } };
  // The SDK loads with the first SMS, not with the app.
  const client = lazy(() =>
    import("@azure/communication-sms").then(({ SmsClient }) =>
      s.SmsAcs
        ? new SmsClient(s.SmsAcs, { ...options, allowInsecureConnection: isLoopbackEndpoint(s.SmsAcs) })
        : new SmsClient(s.SmsAcs__endpoint as string, defaultAzureCredential(s.SmsAcs__clientId), options),
    ),
  );
  const from = s.SMS_FROM as string;
  const timeoutMs = smsTimeoutMs(s.EMAIL_LEASE_S);
  return {
    async send(to, text) {
      const [result] = await (await client()).send({ from, to: [to], message: text }, { abortSignal: AbortSignal.timeout(timeoutMs) });
      if (!result?.successful) return { ok: false, error: `Azure Communication Services answered ${result?.httpStatusCode ?? "nothing"}: ${result?.errorMessage ?? ""}` };
      return { ok: true, messageId: result.messageId ?? null };
    },
  };
}
