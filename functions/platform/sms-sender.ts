import { SmsClient } from "@azure/communication-sms";
import { DefaultAzureCredential } from "@azure/identity";
import type { SmsSender } from "../../domain/notifications/channel-deliveries.js";
import type { Settings } from "./settings.js";

/** SMS is on when there is a number to send from and a Communication Services resource to send through. */
export const smsEnabled = (s: Settings): boolean => Boolean(s.SMS_FROM && (s.SmsAcs || s.SmsAcs__endpoint));

/**
 * The local runtime's development SMS endpoint is plain http on loopback; the SDK refuses http unless told, and is
 * told so for loopback only (an Azure endpoint is https).
 */
function isLoopbackEndpoint(connectionString: string): boolean {
  const endpoint = /(?:^|;)\s*endpoint=([^;]+)/i.exec(connectionString)?.[1]?.trim() ?? "";
  if (!URL.canParse(endpoint)) return false;
  const host = new URL(endpoint).hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Azure Communication Services SMS: a connection string (locally the runtime's development endpoint), or the
 * resource's endpoint with the managed identity in Azure. Null when SMS is off.
 */
export function createSmsSender(s: Settings): SmsSender | null {
  if (!smsEnabled(s)) return null;
  const client = s.SmsAcs
    ? new SmsClient(s.SmsAcs, { allowInsecureConnection: isLoopbackEndpoint(s.SmsAcs) })
    : new SmsClient(s.SmsAcs__endpoint as string, new DefaultAzureCredential(s.SmsAcs__clientId ? { managedIdentityClientId: s.SmsAcs__clientId } : {}));
  const from = s.SMS_FROM as string;
  return {
    async send(to, text) {
      const [result] = await client.send({ from, to: [to], message: text });
      if (!result?.successful) return { ok: false, error: `Azure Communication Services answered ${result?.httpStatusCode ?? "nothing"}: ${result?.errorMessage ?? ""}` };
      return { ok: true, messageId: result.messageId ?? null };
    },
  };
}
