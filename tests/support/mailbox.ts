// The local runtime's development mailbox (`/admin/mailbox/messages`), which it starts whenever the app's EmailSmtp
// is `UseDevelopmentMailbox=true` (the sample's value): tests read the mails the app sent from there rather than
// running an SMTP sink of their own. It keeps the newest 500 messages
// (`DELETE /admin/mailbox/messages` empties it); each test file's app has its own.
import type { StoredMail } from "@ringlet/local-runtime/mail-sink";
import type { RunningApp } from "./app.js";
import { recentErrors, waitFor } from "./wait-for.js";

const messagesUrl = (app: RunningApp) => `${app.baseUrl}/admin/mailbox/messages`;

/** Every stored mail, newest first. */
export async function mailbox(app: RunningApp): Promise<StoredMail[]> {
  const res = await fetch(messagesUrl(app));
  // 404: no mailbox runs, i.e. the test gave the app an EmailSmtp of its own.
  if (res.status !== 200) throw new Error(`the development mailbox answered ${res.status} (is EmailSmtp UseDevelopmentMailbox=true?)`);
  return (await res.json()) as StoredMail[];
}

/** Whether `address` is one of the mail's To recipients (`Name <address>` or the bare address, any case). */
const addressedTo = (mail: StoredMail, address: string): boolean => {
  const wanted = address.toLowerCase();
  return mail.to.some((t) => {
    const recipient = t.toLowerCase();
    return recipient === wanted || recipient.endsWith(`<${wanted}>`);
  });
};

/** The mails to `address` whose subject starts with `subjectStart`, oldest first. */
export async function mailsTo(app: RunningApp, address: string, subjectStart = ""): Promise<StoredMail[]> {
  return (await mailbox(app)).reverse().filter((m) => addressedTo(m, address) && m.subject.startsWith(subjectStart));
}

/** The `nth` (1-based, oldest first) mail to `address` whose subject starts with `subjectStart`, once it has arrived. */
export function waitForMail(app: RunningApp, address: string, subjectStart: string, options: { nth?: number; timeoutMs?: number } = {}): Promise<StoredMail> {
  const nth = options.nth ?? 1;
  return waitFor(`mail ${nth} "${subjectStart}" to ${address}`, async () => (await mailsTo(app, address, subjectStart))[nth - 1], {
    // Under vitest's 30 s test timeout, so a missing mail fails with its own message and the runtime's errors.
    timeoutMs: options.timeoutMs ?? 20_000,
    diagnostics: () => recentErrors(app),
  });
}
