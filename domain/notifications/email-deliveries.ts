import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type EmailDeliveryStatus, emailDeliveries } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import type { ComposedEmail } from "./compose-email.js";
import { type AttemptOutcome, claimDue, type DeliveryKind, failedAttempt, type RetryPolicy, type SendPolicy, sendDue } from "./delivery-queue.js";

export type EmailDeliveryRow = typeof emailDeliveries.$inferSelect;

/** What a mailer sends: a composed email, or one read back from its delivery row. */
export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  template: string;
  locale: string;
  /** Extra message headers (List-Unsubscribe), sent as they are. */
  headers?: Record<string, string>;
}

/** Sends email; the domain does not care whether through SMTP or Azure Communication Services. */
export interface Mailer {
  send(email: OutgoingEmail): Promise<{ messageId: string | null }>;
}

export type EmailSendPolicy = SendPolicy;

/** What sending needs: the pool (never a transaction: each outcome commits on its own), the clock and a mailer. */
export interface EmailSender {
  db: Executor;
  now(): Date;
  mailer: Mailer;
}

// Rows per insert: bounds one statement's arrays (each email's bodies are a few kB).
const RECORD_CHUNK = 1_000;

/**
 * Records the emails to send, in the caller's transaction (the one that records the event in the inbox): one
 * pending row per (event, recipient) with everything needed to send it later, due now. Nothing is sent here.
 * A (event, recipient) recorded before keeps its row (`on conflict do nothing`), so it is sent once. Returns
 * the ids recorded by this call, for the caller to send once it has committed.
 */
export async function recordEmails(ctx: DomainContext, emails: { eventId: string; email: ComposedEmail }[]): Promise<string[]> {
  const now = ctx.now();
  const keys = new Set<string>();
  // Only the columns the insert below passes; status, attempts and the times are the same for every row.
  const values: { id: string; eventId: string; recipient: string; template: string; locale: string; subject: string; text: string; html: string; headers: string | null }[] = [];
  for (const { eventId, email } of emails) {
    const recipient = email.to.toLowerCase();
    // The same person twice for one event (staff in two roles) gets one email.
    if (keys.has(`${eventId} ${recipient}`)) continue;
    keys.add(`${eventId} ${recipient}`);
    values.push({
      id: ctx.newId(),
      eventId,
      recipient,
      template: email.template,
      locale: email.locale,
      subject: email.subject,
      text: email.text,
      html: email.html,
      headers: email.headers ? JSON.stringify(email.headers) : null,
    });
  }
  const ids: string[] = [];
  const at = now.toISOString();
  for (let i = 0; i < values.length; i += RECORD_CHUNK) {
    const chunk = values.slice(i, i + RECORD_CHUNK);
    const column = <T>(pick: (v: (typeof values)[number]) => T) => sql.param(chunk.map(pick));
    // One array per column (unnest): an import's batch records hundreds at once, and a VALUES tuple per row cost
    // ~100 µs a row to build and bind.
    const rows = await ctx.db.execute<{ id: string }>(sql`
      insert into ${emailDeliveries} (id, event_id, recipient, template, locale, subject, text, html, headers, status, attempts, next_attempt_at, created_at, updated_at)
      select v.id, v.event_id, v.recipient, v.template, v.locale, v.subject, v.text, v.html, v.headers::jsonb, 'pending', 0, ${at}::timestamptz, ${at}::timestamptz, ${at}::timestamptz
      from unnest(${column((v) => v.id)}::uuid[], ${column((v) => v.eventId)}::uuid[], ${column((v) => v.recipient)}::text[], ${column((v) => v.template)}::text[],
        ${column((v) => v.locale)}::text[], ${column((v) => v.subject)}::text[], ${column((v) => v.text)}::text[], ${column((v) => v.html)}::text[],
        ${column((v) => v.headers)}::text[]) as v(id, event_id, recipient, template, locale, subject, text, html, headers)
      on conflict (event_id, recipient) do nothing
      returning id`);
    ids.push(...rows.map((r) => r.id));
  }
  return ids;
}

/** Claims pending email rows that are due (all, or among `ids`); see `claimDue`. */
export async function claimDueEmails(db: Executor, now: Date, options: { leaseSeconds: number; limit: number; ids?: string[] }): Promise<EmailDeliveryRow[]> {
  return claimDue(db, emailDeliveries, now, options);
}

export type EmailAttemptResult = { ok: true; messageId: string | null } | { ok: false; error: string };

/**
 * Records one attempt in one statement: sent (the bodies are dropped then), or due again after an exponential
 * backoff (from the attempt count stored), or failed at maxAttempts (the bodies kept, so an operator can set it
 * pending again). Only a pending row changes; null when the row was not pending any more.
 */
export async function recordEmailAttempt(
  db: Executor,
  id: string,
  result: EmailAttemptResult,
  now: Date,
  policy: RetryPolicy,
): Promise<Pick<EmailDeliveryRow, "status" | "attempts" | "nextAttemptAt"> | null> {
  const t = emailDeliveries;
  // Sent: the bodies go, as their links may carry secrets (an invitation token is otherwise stored only hashed).
  const changes = result.ok
    ? { attempts: sql`${t.attempts} + 1`, status: "sent" as const, sentAt: now, providerMessageId: result.messageId, text: null, html: null, headers: null, lastError: null, nextAttemptAt: null, updatedAt: now }
    : failedAttempt(t, result.error, now, policy);
  const [row] = await db
    .update(t)
    .set(changes)
    .where(and(eq(t.id, id), eq(t.status, "pending")))
    .returning({ status: t.status, attempts: t.attempts, nextAttemptAt: t.nextAttemptAt });
  return row ?? null;
}

/** One claimed row's attempt, for the caller to log. */
export type EmailAttemptOutcome = AttemptOutcome<EmailDeliveryRow, EmailDeliveryStatus>;

const outgoing = (row: EmailDeliveryRow): OutgoingEmail => ({
  to: row.recipient,
  subject: row.subject,
  text: row.text ?? "",
  html: row.html ?? "",
  template: row.template,
  locale: row.locale,
  ...(row.headers ? { headers: row.headers } : {}),
});

const emailKind = (sender: EmailSender, policy: EmailSendPolicy): DeliveryKind<EmailDeliveryRow, EmailAttemptResult, EmailDeliveryStatus> => ({
  claim: (limit, ids) => claimDueEmails(sender.db, sender.now(), { leaseSeconds: policy.leaseSeconds, limit, ...(ids ? { ids } : {}) }),
  send: async (row) => ({ ok: true, messageId: (await sender.mailer.send(outgoing(row))).messageId }),
  record: (row, result) => recordEmailAttempt(sender.db, row.id, result, sender.now(), policy),
});
const emailFailure = (error: string): EmailAttemptResult => ({ ok: false, error });

/**
 * Claims what is due and sends it (see `sendDue`). With `ids` (what a handler just recorded) only those rows are
 * considered. Both the after-commit step and the retry timer send through here.
 */
export async function sendDueEmails(sender: EmailSender, policy: EmailSendPolicy, scope: { ids?: string[]; maxRounds?: number } = {}): Promise<EmailAttemptOutcome[]> {
  return sendDue(emailKind(sender, policy), policy.concurrency, emailFailure, scope);
}
