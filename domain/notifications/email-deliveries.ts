import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type EmailDeliveryStatus, emailDeliveries } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import type { ComposedEmail } from "./compose-email.js";
import { forEachBounded } from "../shared/bounded.js";

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

export interface EmailSendPolicy {
  maxAttempts: number;
  /** First wait after a failure; each further failure doubles it, up to maxDelaySeconds. */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  /** How long a claim holds a row: no other sender takes it meanwhile. Sends must finish well within it. */
  leaseSeconds: number;
  /** Sends in flight at once for one sender. */
  concurrency: number;
}

/** What sending needs: the pool (never a transaction: each outcome commits on its own), the clock and a mailer. */
export interface EmailSender {
  db: Executor;
  now(): Date;
  mailer: Mailer;
}

// Rows per insert: bounds one statement's arrays (each email's bodies are a few kB).
const RECORD_CHUNK = 1_000;
// Rows a sender claims per worker at a time: few enough that the last of them is sent well within its lease.
const CLAIM_PER_WORKER = 5;

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

/**
 * Claims pending rows that are due (all of them, or among `ids`), oldest first: one statement pushes their next
 * attempt out by the lease and returns them. Rows another claimer has locked are skipped, and a claimed row is
 * not due again until its lease ends, so two senders never send the same row.
 */
export async function claimDueEmails(db: Executor, now: Date, options: { leaseSeconds: number; limit: number; ids?: string[] }): Promise<EmailDeliveryRow[]> {
  if (options.ids?.length === 0) return [];
  const t = emailDeliveries;
  const due = db
    .select({ id: t.id })
    .from(t)
    .where(and(eq(t.status, "pending"), lte(t.nextAttemptAt, now), options.ids ? inArray(t.id, options.ids) : undefined))
    .orderBy(asc(t.nextAttemptAt))
    .limit(options.limit)
    .for("update", { skipLocked: true });
  return db
    .update(t)
    .set({ nextAttemptAt: new Date(now.getTime() + options.leaseSeconds * 1000), updatedAt: now })
    .where(inArray(t.id, due))
    .returning();
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
  policy: Pick<EmailSendPolicy, "maxAttempts" | "baseDelaySeconds" | "maxDelaySeconds">,
): Promise<Pick<EmailDeliveryRow, "status" | "attempts" | "nextAttemptAt"> | null> {
  const t = emailDeliveries;
  const attempts = sql`${t.attempts} + 1`;
  const givesUp = sql`${attempts} >= ${policy.maxAttempts}`;
  const delaySeconds = sql`least(${policy.baseDelaySeconds}::float8 * power(2, ${t.attempts}), ${policy.maxDelaySeconds}::float8)`;
  // Sent: the bodies go, as their links may carry secrets (an invitation token is otherwise stored only hashed).
  const changes = result.ok
    ? { attempts, status: "sent" as const, sentAt: now, providerMessageId: result.messageId, text: null, html: null, headers: null, lastError: null, nextAttemptAt: null, updatedAt: now }
    : {
        attempts,
        status: sql<EmailDeliveryStatus>`case when ${givesUp} then 'failed' else 'pending' end`,
        lastError: result.error.slice(0, 1000),
        nextAttemptAt: sql<Date | null>`case when ${givesUp} then null else ${now.toISOString()}::timestamptz + make_interval(secs => ${delaySeconds}) end`,
        updatedAt: now,
      };
  const [row] = await db
    .update(t)
    .set(changes)
    .where(and(eq(t.id, id), eq(t.status, "pending")))
    .returning({ status: t.status, attempts: t.attempts, nextAttemptAt: t.nextAttemptAt });
  return row ?? null;
}

/** One claimed row's attempt, for the caller to log. */
export interface EmailAttemptOutcome {
  delivery: EmailDeliveryRow;
  /** What the row became; null when it was not recorded (no longer pending, or `recordError`). */
  status: EmailDeliveryStatus | null;
  attempts: number | null;
  nextAttemptAt: Date | null;
  /** Why the send failed. */
  error: string | null;
  /** The send's outcome could not be written; the row stays pending and is sent again after its lease. */
  recordError?: unknown;
}

const outgoing = (row: EmailDeliveryRow): OutgoingEmail => ({
  to: row.recipient,
  subject: row.subject,
  text: row.text ?? "",
  html: row.html ?? "",
  template: row.template,
  locale: row.locale,
  ...(row.headers ? { headers: row.headers } : {}),
});

/** Sends claimed rows outside any transaction, `concurrency` at a time, and records each outcome as it comes. */
export async function sendClaimedEmails(sender: EmailSender, rows: EmailDeliveryRow[], policy: EmailSendPolicy): Promise<EmailAttemptOutcome[]> {
  const outcomes: EmailAttemptOutcome[] = [];
  await forEachBounded(rows, policy.concurrency, async (delivery) => {
    let result: EmailAttemptResult;
    try {
      const { messageId } = await sender.mailer.send(outgoing(delivery));
      result = { ok: true, messageId };
    } catch (err) {
      result = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    const error = result.ok ? null : result.error;
    try {
      const recorded = await recordEmailAttempt(sender.db, delivery.id, result, sender.now(), policy);
      outcomes.push({ delivery, status: recorded?.status ?? null, attempts: recorded?.attempts ?? null, nextAttemptAt: recorded?.nextAttemptAt ?? null, error });
    } catch (recordError) {
      outcomes.push({ delivery, status: null, attempts: null, nextAttemptAt: null, error, recordError });
    }
  });
  return outcomes;
}

/**
 * Claims what is due and sends it, a claim of a few rows per worker at a time, until nothing is due or after
 * `maxRounds` claims. With `ids` (what a handler just recorded) only those rows are considered. Both the
 * after-commit step and the retry timer send through here.
 */
export async function sendDueEmails(sender: EmailSender, policy: EmailSendPolicy, scope: { ids?: string[]; maxRounds?: number } = {}): Promise<EmailAttemptOutcome[]> {
  const limit = Math.max(1, policy.concurrency) * CLAIM_PER_WORKER;
  const maxRounds = scope.maxRounds ?? (scope.ids ? Math.ceil(scope.ids.length / limit) : 1);
  const outcomes: EmailAttemptOutcome[] = [];
  for (let round = 0; round < maxRounds; round++) {
    const claimed = await claimDueEmails(sender.db, sender.now(), { leaseSeconds: policy.leaseSeconds, limit, ids: scope.ids });
    outcomes.push(...(await sendClaimedEmails(sender, claimed, policy)));
    // A short claim took everything that was due (what others hold is theirs).
    if (claimed.length < limit) break;
  }
  return outcomes;
}
