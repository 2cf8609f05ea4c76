import { type AnyColumn, and, eq, inArray, isNotNull, isNull, or, sql } from "drizzle-orm";
import type { EventEnvelope } from "../events/catalog.js";
import { answerFilePrefix } from "../assessment/answer-files.js";
import type { Executor } from "../db/client.js";
import type { Item } from "../db/schema/assessment-json.js";
import { eraseEvaluationReceipts } from "../evaluations/erase-receipts.js";
import {
  accountTokens,
  assessments,
  attempts,
  attendanceMarks,
  auditLog,
  calendarFeeds,
  certificates,
  dataExports,
  emailDeliveries,
  enrollments,
  externalIdentities,
  gradeExcusals,
  grades,
  idempotencyKeys,
  importRows,
  leaveApplications,
  inbox,
  invitations,
  loginThrottles,
  manualScores,
  notificationPreferences,
  outbox,
  refreshTokens,
  rosterSources,
  twoFactorChallenges,
  twoFactorCredentials,
  twoFactorRecoveryCodes,
  users,
  webhookDeliveries,
} from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { certificatePrefix } from "../certificates/issue-certificate.js";
import { exportPrefix } from "./data-exports.js";
import { leaveFilePrefix } from "../leave/apply-leave.js";
import { type Pseudonym, pseudonymFor } from "./pseudonym.js";
import { containing, type Replacement, scrubJson, scrubText } from "./scrub.js";
import { UUID_PATTERN } from "../shared/uuid.js";
import { eraseDiscussionData } from "../discussions/erase-discussions.js";
import { eraseChannelData } from "../notifications/channel-personal-data.js";

/** Deletes stored files by blob name; deleting one that is not there is not an error (erasure is retried). */
export interface BlobRemover {
  remove(blobName: string): Promise<void>;
  /** Deletes every blob whose name starts with the prefix; returns how many it deleted. */
  removePrefix(prefix: string): Promise<number>;
}

/**
 * Every table of the schema and what erasing a user does to it. A table missing here fails
 * tests/domain/privacy/erasure-inventory.test.ts: whoever adds a table says where it keeps personal data.
 * Outside PostgreSQL: answer files, certificate PDFs and export archives are deleted from Blob Storage (below);
 * the learner's activity statements in Cosmos DB are deleted by the activity subscription on `user.erased`; the
 * analytics read models keep the learner's id only (course statistics go on counting them).
 */
export const personalDataInventory = {
  users: "pseudonymised: email and display name; password hash and locale reset; erased_at and disabled_at set (the row stays for foreign keys)",
  external_identities: "deleted",
  roster_sources: "deleted: the OneRoster sourcedId their account was imported under (a later bundle naming it makes a new account)",
  refresh_tokens: "deleted (they hold client addresses)",
  login_throttles: "deleted: the account:<email> and reset-account:<email> counters and any key naming the user id",
  account_tokens: "deleted: the user's and those sent to their address",
  two_factor_credentials: "deleted",
  two_factor_recovery_codes: "deleted",
  two_factor_challenges: "deleted",
  notification_preferences: "deleted",
  data_exports: "deleted, with everything under privacy-exports/<user id>/ in Blob (archives and the staging of unfinished exports)",
  erasure_requests: "kept: ids and times only",
  audit_log:
    "scrubbed: target_id and details take the pseudonym (the name only in entries by or about them, the email anywhere); client_ip cleared in their own entries and in entries without an actor whose target is their id or email (password resets asked for, sign-ins failed before the account existed); entries stay",
  outbox: "scrubbed: event data naming the email, or the name in their own events (user.registered, enrollment.invited)",
  inbox: "scrubbed: rejection reasons naming the email",
  webhook_deliveries: "scrubbed: payloads naming the email, or the name in payloads of their own events",
  email_deliveries:
    "scrubbed: emails to them take the pseudonym and lose their bodies (unsent ones fail); others naming the email lose the body they named it in (unsent ones fail)",
  invitations: "pseudonymised: invitations to their address",
  idempotency_keys: "deleted: stored answers of their requests",
  attempts: "free-text and file answers blanked (every file under each attempt's prefix deleted from Blob, uploads replaced or never saved too); choices and numbers stay for the grades",
  grades: "scores kept; explanations quoting their text or naming them scrubbed",
  manual_scores: "points kept; feedback and rubric comments quoting their text or naming them scrubbed",
  grade_excusals: "kept; reasons naming them scrubbed",
  certificates: "kept under the pseudonym (verification names it); every PDF under certificates/<course id>/<user id>/ is deleted from Blob (for each course they were enrolled in or certified by, so also one whose row was rolled back)",
  enrollments: "kept: ids and times only",
  course_progress: "kept: ids and figures only",
  lesson_completions: "kept: ids and times only",
  assessment_extensions: "kept: ids and times only",
  due_reminders: "kept: ids and times only",
  course_staff: "kept: ids only",
  course_staff_sections: "kept: ids only",
  sections: "no personal data",
  groups: "no personal data (names are staff-written)",
  group_members: "kept: ids and times only",
  courses: "kept: the creator's id only (the content is staff-written)",
  course_prerequisites: "no personal data",
  modules: "no personal data",
  lessons: "no personal data",
  assessments: "no personal data",
  assessment_keys: "no personal data",
  question_banks: "kept: the maker's id only (set null if the account row is ever deleted)",
  question_bank_courses: "no personal data",
  bank_items: "kept: author and approver ids only",
  bank_item_versions: "kept: the author's id and course material",
  generation_jobs: "kept: the requester's id, the source (a lesson or an uploaded course document) and counts",
  rubrics: "kept: the maker's id and course material",
  item_stats: "kept: sums over many learners, no one's answers",
  item_choice_counts: "kept: counts over many learners",
  assessment_stats: "kept: sums over many learners",
  item_analysis_contributions: "kept: a submission's per-item points and picked choice ids (as grades keep scores); no text",
  assessment_draw_banks: "no personal data: which banks an assessment's attempts drew from",
  draw_candidate_sets: "no personal data: bank item ids and versions a draw chose from",
  grade_categories: "no personal data",
  webhooks: "kept: the creator's id only (admins register them, and admins are never erased)",
  imports: "kept: the importer's id, the file's name and the counts (the file is deleted after IMPORT_RETENTION_DAYS)",
  import_rows: "deleted: rows whose email cell is their address (import_rows.email, indexed; every row goes after IMPORT_RETENTION_DAYS)",
  session_series: "kept: the staff member's and creator's ids only (the schedule is staff-written)",
  class_sessions: "kept: the staff member's id only",
  calendar_feeds: "deleted (the secret feed URL ends)",
  attendance_policies: "no personal data",
  attendance_marks: "kept: statuses and times (the attendance record); notes naming them scrubbed",
  attendance_alerts: "kept: ids, period and rate only",
  leave_applications: "kept: dates and outcome; their reason and the decision comment blanked, the document deleted from Blob (everything under leave/<user id>/)",
  leave_approvers: "kept: ids only",
  leave_courses: "no personal data",
  notifications: "deleted (their inbox)",
  channel_deliveries: "deleted (SMS and push messages to them, with the numbers they went to)",
  push_subscriptions: "deleted",
  phone_numbers: "deleted",
  announcements: "kept: the author's id only (staff-written)",
  announcement_reads: "kept: ids and times only",
  discussion_topics: "kept: ids and moderation state; titles of topics they opened replaced by a removal notice",
  discussion_posts: "their posts blanked (body, HTML and search vector) and marked deleted; the thread's shape stays",
  discussion_subscriptions: "deleted",
  discussion_mentions: "deleted: mentions of them",
  evaluation_templates: "kept: the creator's id only (admins write them)",
  course_evaluations: "kept: the creator's id only",
  evaluation_receipts: "deleted: their receipts (keyed hashes of evaluation and user: with the key they are findable)",
  evaluation_responses: "no personal data: anonymous, nothing links a response to a learner",
  fees: "kept: the creator's id only (staff-written)",
  fee_instalments: "no personal data",
  fee_discounts: "kept: ids, amounts and the bursar's reason (an accounting record)",
  document_counters: "no personal data",
  invoices:
    "kept for the legal retention of accounting records (GDPR art. 17(3)(b)): an issued invoice is never edited, so the bill-to name and email it was issued to, its amounts and its PDF in Blob stay",
  invoice_instalments: "no personal data",
  credit_notes: "kept (accounting record, as invoices): amounts, the reason and the PDF",
  payment_attempts: "kept: ids, amounts and the provider's session id",
  payments: "kept (accounting record): amounts, the provider's payment id, the bursar's reference",
  refunds: "kept (accounting record): amounts, the provider's refund id, the reason",
  ledger_entries: "kept (append-only accounting record): ids, amounts and descriptions (no names)",
  provider_events: "kept: the provider's event and object ids and times only",
  invoice_reminders: "kept: ids and times only",
} as const;

const ERASED_TEXT = "[erased]";

export interface ErasureOutcome {
  pseudonym: Pseudonym;
  /** False when the user had been erased already: nothing changed. */
  erased: boolean;
  blobsDeleted: number;
}

/** The free text a learner wrote: their essay and short answers (what graders' feedback may quote). */
async function freeTextOf(db: Executor, userId: string) {
  const rows = await db
    // the attempt's own items where it drew or shuffled them (a drawn essay is not among the assessment's items)
    .select({ id: attempts.id, answers: attempts.answers, items: sql<Item[]>`coalesce(${attempts.items}, ${assessments.items})` })
    .from(attempts)
    .innerJoin(assessments, eq(assessments.id, attempts.assessmentId))
    .where(eq(attempts.userId, userId));
  const texts = new Set<string>();
  const blanked = rows.map((row) => {
    const answers = { ...row.answers };
    for (const item of row.items) {
      const answer = answers[item.id];
      if (answer === undefined || answer === null) continue;
      if (item.type === "essay" || item.type === "short-text") {
        if (typeof answer === "string" && answer.trim().length > 0) texts.add(answer.trim());
        answers[item.id] = null;
      } else if (item.type === "file") {
        answers[item.id] = null;
      }
    }
    return { id: row.id, answers };
  });
  return { texts: [...texts], blanked };
}

/** Rows of a table whose text (cast) contains any of the needles, case-insensitively. */
const mentioning = (column: AnyColumn, needles: readonly string[]) =>
  or(...needles.map((n) => sql`${column}::text ilike ${containing(n)}`));

/** What an erasure deletes from Blob Storage; every name and prefix derives from ids, which the erasure keeps. */
export interface ErasureFiles {
  names: string[];
  prefixes: string[];
}

/**
 * The user's stored files: certificate PDFs (by name, and by prefix per course, for a PDF written before a batch
 * that rolled back its row), every attempt's answer files, and the data-export archives and their staging.
 */
export async function erasureFilesOf(db: Executor, userId: string): Promise<ErasureFiles> {
  const certificateRows = await db.select({ courseId: certificates.courseId, blobName: certificates.blobName }).from(certificates).where(eq(certificates.userId, userId));
  const enrolledIn = await db.select({ courseId: enrollments.courseId }).from(enrollments).where(eq(enrollments.userId, userId));
  const attemptRows = await db.select({ id: attempts.id, courseId: attempts.courseId }).from(attempts).where(eq(attempts.userId, userId));
  const courseIds = new Set([...certificateRows, ...enrolledIn].map((r) => r.courseId));
  return {
    names: certificateRows.map((c) => c.blobName),
    prefixes: [
      ...[...courseIds].map((courseId) => certificatePrefix(courseId, userId)),
      // Every upload of an attempt lives under its prefix, also one replaced by a later upload or never saved as an answer.
      ...attemptRows.map((a) => answerFilePrefix(a.courseId, a.id)),
      exportPrefix(userId),
      leaveFilePrefix(userId),
    ],
  };
}

/** Deletes the files; a file already gone is no error, so a retried erasure repeats this harmlessly. */
export async function removeErasureFiles(files: BlobRemover, plan: ErasureFiles): Promise<number> {
  let deleted = 0;
  for (const name of plan.names) {
    await files.remove(name);
    deleted++;
  }
  for (const prefix of plan.prefixes) deleted += await files.removePrefix(prefix);
  return deleted;
}

/** Keys the erasure needs to find what is stored under them (the app's settings hand them down). Required: an
 * erasure without them would silently leave what only they can find. */
export interface ErasureKeys {
  /** Finds the user's evaluation receipts (keyed hashes). */
  evaluationReceiptKey: string;
}

/**
 * Erases a user: their files first, outside any transaction (no lock or connection held through Blob Storage),
 * then the database in one transaction, then the export prefix once more: an export that finished while the files
 * were deleted left an archive there, and any export finishing later finds its row gone and discards its own.
 * `ctx.db` is the pool. Idempotent: a retry deletes the files again (harmless) and leaves an erased user alone.
 */
export async function eraseUser(ctx: DomainContext, files: BlobRemover, userId: string, keys: ErasureKeys): Promise<ErasureOutcome | null> {
  let blobsDeleted = await removeErasureFiles(files, await erasureFilesOf(ctx.db, userId));
  const outcome = await ctx.db.transaction((tx) => erasePersonalData({ ...ctx, db: tx }, userId, keys));
  blobsDeleted += await files.removePrefix(exportPrefix(userId));
  return outcome && { ...outcome, blobsDeleted };
}

/**
 * Removes or pseudonymises a user's personal data wherever the database holds it, in the caller's transaction, and
 * records `user.erased` (so subscriptions forget what they hold) and the audit entry. Idempotent: the pseudonym
 * comes from the id, and a user already erased is left alone. Blob Storage is eraseUser's part, outside.
 */
export async function erasePersonalData(ctx: DomainContext, userId: string, keys: ErasureKeys): Promise<ErasureOutcome | null> {
  const db = ctx.db;
  const [user] = await db.select().from(users).where(eq(users.id, userId)).for("update");
  if (!user) return null;
  const pseudonym = pseudonymFor(userId);
  if (user.erasedAt) return { pseudonym, erased: false, blobsDeleted: 0 };
  const now = ctx.now();
  // First, under the user's lock: an export completing now waits for this row, then matches nothing and discards its
  // archive (deleted later, the rows would let it mark itself ready with an archive no one deletes).
  await db.delete(dataExports).where(eq(dataExports.userId, userId));

  const identity: Replacement[] = [
    { find: user.email, replaceWith: pseudonym.email },
    { find: user.displayName, replaceWith: pseudonym.displayName },
  ];
  const work = await freeTextOf(db, userId);
  const quoted: Replacement[] = [...identity, ...work.texts.map((find) => ({ find, replaceWith: ERASED_TEXT }))];

  // Learner work: free text and files blanked, grades kept with their numbers.
  for (const attempt of work.blanked) await db.update(attempts).set({ answers: attempt.answers, updatedAt: now }).where(eq(attempts.id, attempt.id));
  const gradeRows = await db.select({ id: grades.id, itemScores: grades.itemScores, explanation: grades.explanation }).from(grades).where(eq(grades.userId, userId));
  for (const g of gradeRows) {
    const itemScores = scrubJson(g.itemScores, quoted);
    const explanation = scrubJson(g.explanation, quoted);
    if (JSON.stringify([itemScores, explanation]) !== JSON.stringify([g.itemScores, g.explanation])) {
      await db.update(grades).set({ itemScores, explanation }).where(eq(grades.id, g.id));
    }
  }
  const submissionIds = work.blanked.map((a) => a.id);
  if (submissionIds.length > 0) {
    const feedback = await db.select().from(manualScores).where(inArray(manualScores.submissionId, submissionIds));
    for (const m of feedback) {
      const scrubbed = scrubText(m.feedback, quoted);
      // Rubric comments too (only the comments: ids stay as they are): a regrade rebuilds grades.item_scores from them.
      const rubric = m.rubric ? { ...m.rubric, criteria: m.rubric.criteria.map((c) => ({ ...c, comment: scrubText(c.comment, quoted) })) } : m.rubric;
      if (scrubbed !== m.feedback || JSON.stringify(rubric) !== JSON.stringify(m.rubric)) {
        await db.update(manualScores).set({ feedback: scrubbed, rubric }).where(and(eq(manualScores.submissionId, m.submissionId), eq(manualScores.itemId, m.itemId)));
      }
    }
  }
  for (const e of await db.select().from(gradeExcusals).where(eq(gradeExcusals.userId, userId))) {
    const reason = scrubText(e.reason, identity);
    if (reason !== e.reason) await db.update(gradeExcusals).set({ reason }).where(and(eq(gradeExcusals.assessmentId, e.assessmentId), eq(gradeExcusals.userId, userId)));
  }
  await db.update(certificates).set({ learnerName: pseudonym.displayName }).where(eq(certificates.userId, userId));
  // Attendance marks stay (the record); notes that name them, on their marks or others' in their courses, lose the name.
  const named = await db
    .select({ sessionId: attendanceMarks.sessionId, userId: attendanceMarks.userId, note: attendanceMarks.note })
    .from(attendanceMarks)
    .where(
      and(
        isNotNull(attendanceMarks.note),
        or(eq(attendanceMarks.userId, userId), sql`${attendanceMarks.courseId} in (select course_id from ${enrollments} where user_id = ${userId})`),
        mentioning(attendanceMarks.note, [user.email, user.displayName]),
      ),
    );
  for (const m of named) {
    const note = scrubText(m.note ?? "", identity);
    if (note !== m.note) await db.update(attendanceMarks).set({ note, updatedAt: now }).where(and(eq(attendanceMarks.sessionId, m.sessionId), eq(attendanceMarks.userId, m.userId)));
  }
  // Leave applications keep their dates and outcome; the reason, the comment on it and the document go.
  await db
    .update(leaveApplications)
    .set({ reason: ERASED_TEXT, decisionComment: null, documentBlob: null, documentFileName: null, documentContentType: null, documentSizeBytes: null, updatedAt: now })
    .where(eq(leaveApplications.applicantUserId, userId));

  // Course evaluation receipts: found with the key; the anonymous responses stay.
  await eraseEvaluationReceipts(db, userId, keys.evaluationReceiptKey);
  // Credentials, sessions and everything kept only for the account's own use.
  await db.delete(externalIdentities).where(eq(externalIdentities.userId, userId));
  await db.delete(rosterSources).where(and(eq(rosterSources.entity, "user"), eq(rosterSources.entityId, userId)));
  await db.delete(refreshTokens).where(eq(refreshTokens.userId, userId));
  await db
    .delete(loginThrottles)
    .where(or(inArray(loginThrottles.key, [`account:${user.email}`, `reset-account:${user.email}`]), sql`${loginThrottles.key} like ${containing(userId)}`));
  await db.delete(accountTokens).where(or(eq(accountTokens.userId, userId), eq(accountTokens.email, user.email)));
  // Staged import rows naming their address (its key, or the email cell of a row refused at staging).
  await db.delete(importRows).where(eq(importRows.email, user.email.toLowerCase()));
  await db.delete(twoFactorChallenges).where(eq(twoFactorChallenges.userId, userId));
  await db.delete(twoFactorRecoveryCodes).where(eq(twoFactorRecoveryCodes.userId, userId));
  await db.delete(twoFactorCredentials).where(eq(twoFactorCredentials.userId, userId));
  await db.delete(notificationPreferences).where(eq(notificationPreferences.userId, userId));
  await db.delete(calendarFeeds).where(eq(calendarFeeds.userId, userId));
  await eraseChannelData(db, userId);
  await eraseDiscussionData(ctx, userId);
  await db.delete(idempotencyKeys).where(or(sql`${idempotencyKeys.scope} like ${containing(userId)}`, mentioning(idempotencyKeys.responseBody, [user.email, user.displayName])));
  await db.update(invitations).set({ email: pseudonym.email, updatedAt: now }).where(eq(invitations.email, user.email));

  // Records that stay, with the email and name replaced. The address is theirs alone and is searched everywhere; a
  // name is not (another user may bear it), so it is replaced only in rows by, about or addressed to them.
  const byEmail = [{ find: user.email, replaceWith: pseudonym.email }];
  const eventIds = db
    .select({ id: outbox.id })
    .from(outbox)
    .where(or(eq(outbox.aggregateId, userId), sql`${outbox.data}->>'userId' = ${userId}`, sql`${outbox.actor}->>'userId' = ${userId}`));
  const theirs = {
    audit: or(eq(auditLog.actorUserId, userId), inArray(auditLog.targetId, [userId, user.email]), sql`${auditLog.details}->>'userId' = ${userId}`),
    outbox: or(eq(outbox.aggregateId, userId), sql`${outbox.data}->>'userId' = ${userId}`, sql`${outbox.actor}->>'userId' = ${userId}`),
    webhook: or(inArray(webhookDeliveries.eventId, eventIds), sql`${webhookDeliveries.payload}->'data'->>'userId' = ${userId}`, sql`${webhookDeliveries.payload}->'actor'->>'userId' = ${userId}`),
  };
  const scrubFor = (linked: boolean) => (linked ? identity : byEmail);

  // Their own entries lose the client address they were made from, and so do entries without an actor about them
  // (a reset asked for their address, a sign-in failed with it before the account existed): that was them, or
  // someone trying their address.
  await db
    .update(auditLog)
    .set({ clientIp: null })
    .where(and(or(eq(auditLog.actorUserId, userId), and(isNull(auditLog.actorUserId), inArray(auditLog.targetId, [userId, user.email]))), isNotNull(auditLog.clientIp)));
  const auditRows = await db
    .select({ id: auditLog.id, targetId: auditLog.targetId, details: auditLog.details, linked: sql<boolean>`coalesce(${theirs.audit}, false)` })
    .from(auditLog)
    .where(or(eq(auditLog.targetId, user.email), mentioning(auditLog.details, [user.email]), and(theirs.audit, mentioning(auditLog.details, [user.displayName]))));
  for (const row of auditRows) {
    const r = scrubFor(row.linked);
    await db
      .update(auditLog)
      .set({ targetId: row.targetId === null ? null : scrubText(row.targetId, r), details: scrubJson(row.details, r) })
      .where(eq(auditLog.id, row.id));
  }
  const outboxRows = await db
    .select({ id: outbox.id, data: outbox.data, linked: sql<boolean>`coalesce(${theirs.outbox}, false)` })
    .from(outbox)
    .where(or(mentioning(outbox.data, [user.email]), and(theirs.outbox, mentioning(outbox.data, [user.displayName]))));
  for (const row of outboxRows) await db.update(outbox).set({ data: scrubJson(row.data, scrubFor(row.linked)) }).where(eq(outbox.id, row.id));
  const webhookRows = await db
    .select({ id: webhookDeliveries.id, payload: webhookDeliveries.payload, linked: sql<boolean>`coalesce(${theirs.webhook}, false)` })
    .from(webhookDeliveries)
    .where(or(mentioning(webhookDeliveries.payload, [user.email]), and(theirs.webhook, mentioning(webhookDeliveries.payload, [user.displayName]))));
  for (const row of webhookRows) {
    await db.update(webhookDeliveries).set({ payload: scrubJson(row.payload, scrubFor(row.linked)) }).where(eq(webhookDeliveries.id, row.id));
  }
  for (const row of await db.select().from(inbox).where(mentioning(inbox.reason, [user.email]))) {
    await db.update(inbox).set({ reason: scrubText(row.reason ?? "", byEmail) }).where(and(eq(inbox.subscription, row.subscription), eq(inbox.messageId, row.messageId)));
  }
  const emails = await db
    .select({ id: emailDeliveries.id, recipient: emailDeliveries.recipient, subject: emailDeliveries.subject, text: emailDeliveries.text, html: emailDeliveries.html, status: emailDeliveries.status, lastError: emailDeliveries.lastError })
    .from(emailDeliveries)
    .where(
      or(
        eq(emailDeliveries.recipient, user.email),
        mentioning(emailDeliveries.subject, [user.email]),
        mentioning(emailDeliveries.text, [user.email]),
        mentioning(emailDeliveries.html, [user.email]),
        mentioning(emailDeliveries.lastError, [user.email]),
      ),
    );
  for (const row of emails) {
    const toThem = row.recipient === user.email;
    const r = scrubFor(toThem);
    // A body is cleared only where it named them (an email to someone else that merely mentions a same-named
    // person keeps its body); an unsent email without its body must not go out empty, so it fails, with the reason.
    const bodyNamedThem = toThem || [row.text, row.html].some((b) => b !== null && scrubText(b, byEmail) !== b);
    const stopped = bodyNamedThem && row.status === "pending";
    await db
      .update(emailDeliveries)
      .set({
        recipient: toThem ? pseudonym.email : row.recipient,
        subject: scrubText(row.subject, r),
        ...(bodyNamedThem ? { text: null, html: null } : {}),
        ...(stopped ? { status: "failed" as const, nextAttemptAt: null } : {}),
        lastError: stopped
          ? toThem
            ? "not sent: the recipient's personal data was erased"
            : "not sent: it named a user whose personal data was erased"
          : row.lastError === null
            ? null
            : scrubText(row.lastError, r),
        updatedAt: now,
      })
      .where(eq(emailDeliveries.id, row.id));
  }

  await db
    .update(users)
    .set({ email: pseudonym.email, displayName: pseudonym.displayName, passwordHash: null, locale: "en", erasedAt: now, disabledAt: user.disabledAt ?? now, updatedAt: now })
    .where(eq(users.id, userId));
  await recordEvent(ctx, { type: "user.erased", aggregateType: "user", aggregateId: userId, data: { userId, pseudonym: pseudonym.displayName } });
  await recordAudit(ctx, { action: "privacy.user-erased", targetType: "user", targetId: userId, details: { pseudonym: pseudonym.displayName } });
  return { pseudonym, erased: true, blobsDeleted: 0 };
}

/** Which of these users were erased: events about them still in flight must not rebuild what erasure removed. */
export async function erasedAmong(db: Executor, userIds: readonly string[]): Promise<Set<string>> {
  // Event data is not all user ids (a learner key may be anything a client sent): only ids can be erased users.
  const ids = [...new Set(userIds)].filter((id) => UUID_PATTERN.test(id));
  if (ids.length === 0) return new Set();
  const rows = await db.select({ id: users.id }).from(users).where(and(inArray(users.id, ids), isNotNull(users.erasedAt)));
  return new Set(rows.map((u) => u.id));
}

// Fields of event data that hold a person's address or name, for the user named by the same data's `userId`.
const personalFields = ["email", "displayName"] as const;

/**
 * Events published before an erasure may still be in flight (Service Bus keeps its own copy, e.g. of
 * `user.registered`): a subscription that stores them (webhook deliveries) passes them through here first, so an
 * erased user's address and name are stored as the pseudonym, as the erasure left everything else.
 */
export async function withoutErasedPersonalData(db: Executor, events: readonly EventEnvelope[]): Promise<EventEnvelope[]> {
  const userIdOf = (e: EventEnvelope) => {
    const data = e.data as Record<string, unknown> | null;
    return data && typeof data.userId === "string" && personalFields.some((f) => typeof data[f] === "string") ? data.userId : null;
  };
  const erased = await erasedAmong(db, events.map(userIdOf).filter((id): id is string => id !== null));
  if (erased.size === 0) return [...events];
  return events.map((e) => {
    const userId = userIdOf(e);
    if (!userId || !erased.has(userId)) return e;
    const p = pseudonymFor(userId);
    const data = { ...(e.data as Record<string, unknown>) };
    if (typeof data.email === "string") data.email = p.email;
    if (typeof data.displayName === "string") data.displayName = p.displayName;
    return { ...e, data };
  });
}
