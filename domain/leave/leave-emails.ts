import { createHash } from "node:crypto";
import { and, eq, inArray, isNull, ne } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { leaveApprovers, users } from "../db/schema/index.js";
import { type ComposedEmail, composeEmail } from "../notifications/compose-email.js";
import { currentApprover } from "./leave-approvers.js";

export interface Recipient {
  id: string;
  email: string;
  displayName: string;
  locale: string;
}

export interface LeaveForEmail {
  id: string;
  applicantUserId: string;
  startsAt: Date;
  endsAt: Date;
}

const recipientColumns = { id: users.id, email: users.email, displayName: users.displayName, locale: users.locale };
// Disabled or erased accounts get no mail.
const reachable = and(isNull(users.disabledAt), isNull(users.erasedAt));

export async function recipients(db: Executor, userIds: readonly string[]): Promise<Recipient[]> {
  if (userIds.length === 0) return [];
  return db.select(recipientColumns).from(users).where(and(inArray(users.id, [...userIds]), reachable)).orderBy(users.id);
}

/** The reachable administrators, but `exceptUserId` (an administrator never decides, nor hears of, their own leave). */
export async function administrators(db: Executor, exceptUserId?: string): Promise<Recipient[]> {
  return db
    .select(recipientColumns)
    .from(users)
    .where(and(eq(users.isAdmin, true), reachable, exceptUserId === undefined ? undefined : ne(users.id, exceptUserId)))
    .orderBy(users.id);
}

export async function approversOf(db: Executor, applicationId: string): Promise<Recipient[]> {
  return db
    .select(recipientColumns)
    .from(leaveApprovers)
    .innerJoin(users, eq(users.id, leaveApprovers.userId))
    .where(and(eq(leaveApprovers.applicationId, applicationId), reachable, currentApprover(applicationId, users.id)))
    .orderBy(users.id);
}

const words: Record<string, Record<"approved" | "rejected" | "comment", string>> = {
  en: { approved: "approved", rejected: "rejected", comment: "Comment" },
  es: { approved: "aprobado", rejected: "rechazado", comment: "Comentario" },
};
const wordsFor = (locale: string) => words[locale] ?? words[locale.split("-")[0] ?? ""] ?? (words.en as (typeof words)[string]);
const when = (d: Date) => d.toUTCString();

/**
 * A step's emails are recorded under an id derived from the application and the step, so an activity that runs
 * again (redelivery, replay after a restart) records nothing new: (event id, recipient) is unique.
 */
export function stepEmailId(applicationId: string, step: string): string {
  const h = createHash("sha256").update(`leave:${applicationId}:${step}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface Common {
  appUrl: string;
  leave: LeaveForEmail;
  applicant: Recipient;
}

const base = ({ appUrl, leave, applicant }: Common) => ({ appUrl, applicationId: leave.id, applicant: applicant.displayName, startsAt: when(leave.startsAt), endsAt: when(leave.endsAt) });

export const requestedEmails = (c: Common, to: Recipient[], escalatesAt: Date) =>
  to.map((r) => composeEmail("leave-requested", r.locale, r.email, { ...base(c), name: r.displayName, escalatesAt: when(escalatesAt) }));

export const escalatedEmails = (c: Common, to: Recipient[], expiresAt: Date) =>
  to.map((r) => composeEmail("leave-escalated", r.locale, r.email, { ...base(c), name: r.displayName, expiresAt: when(expiresAt) }));

export const withdrawnEmails = (c: Common, to: Recipient[]) => to.map((r) => composeEmail("leave-withdrawn", r.locale, r.email, { ...base(c), name: r.displayName }));

export function decidedEmail(c: Common, outcome: "approved" | "rejected", comment: string | null): ComposedEmail {
  const w = wordsFor(c.applicant.locale);
  return composeEmail("leave-decided", c.applicant.locale, c.applicant.email, {
    ...base(c),
    name: c.applicant.displayName,
    outcome: w[outcome],
    comment: comment ? `${w.comment}: ${comment}` : "",
  });
}

export const expiredEmail = (c: Common) => composeEmail("leave-expired", c.applicant.locale, c.applicant.email, { ...base(c), name: c.applicant.displayName });
