import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { assessments, certificates, courses, courseStaff, enrollments, grades, users, webhooks } from "../db/schema/index.js";
import type { CatalogEvent } from "../events/catalog.js";
import { type ComposedEmail, composeEmail, isPlaceholderEmail } from "./compose-email.js";
import type { NotificationInput } from "./notify.js";
import { categoryOf, type NotificationCategory } from "./preferences.js";
import type { TemplateKey } from "./templates.js";
import { type DocumentUrl, invoiceNotices, seatHoldNotices } from "../finance/invoice-notices.js";
import { importEmailValues } from "../imports/import-summary.js";
import { announcementNotifications } from "../announcements/announcement-notifications.js";
import { discussionPostNotifications } from "../discussions/discussion-notifications.js";
import { staffSeesActiveLearner } from "../sections/staff-scope.js";
import { cancelledSessions, cancelledSessionsText, expectedLearnersSql } from "../schedule/cancel-emails.js";
import { dunningNotices } from "../finance/dunning.js";

interface Recipient {
  id: string;
  email: string;
  name: string;
  locale: string;
}

const recipientColumns = { id: users.id, email: users.email, name: users.displayName, locale: users.locale };
// Time-sensitive: sent by push and SMS even in the recipient's quiet hours.
const urgentTemplates: ReadonlySet<TemplateKey> = new Set(["seat-offered", "class-cancelled"]);

/**
 * The user (every channel's preferences are applied when the notification is recorded). The row is key-share
 * locked until it is recorded: an erasure (which locks it for update) then either runs first, and the address
 * read is the pseudonym nobody writes to, or waits and scrubs what was recorded with the rest.
 */
async function user(db: Executor, id: string): Promise<Recipient | null> {
  const [row] = await db.select(recipientColumns).from(users).where(and(eq(users.id, id), sql`${users.erasedAt} is null`)).for("key share", { of: users });
  return row ?? null;
}

async function courseTitle(db: Executor, id: string): Promise<string> {
  const [row] = await db.select({ title: courses.title }).from(courses).where(eq(courses.id, id));
  return row?.title ?? "your course";
}

const when = (iso: string) => new Date(iso).toUTCString();

export interface EmailLinks {
  /** A long-lived (days) read link for a stored file, for emails that hand one over. */
  fileDownloadUrl(blobName: string, downloadName: string): Promise<string>;
  /** A signed one-click unsubscribe link (no sign-in) that turns `category` off for the user. */
  unsubscribeUrl(userId: string, category: NotificationCategory): Promise<string>;
  /** A signed link (no sign-in, expires) to an invoice's or credit note's PDF; without it, the invoice's page. */
  financeDocumentUrl?: DocumentUrl;
}

const percentText = (percent: number | null) => (percent === null ? "—" : `${Math.round(percent * 100) / 100}%`);

/**
 * The notifications an event calls for, each with its email composed in the recipient's language; none for events
 * nobody is told about. Every channel's preferences are applied when they are recorded (`recordNotifications`),
 * so the inbox gets them all. Optional emails carry a one-click unsubscribe link.
 */
export async function notificationsForEvent(db: Executor, event: CatalogEvent, appUrl: string, links: EmailLinks): Promise<NotificationInput[]> {
  const base = { appUrl };
  const compose = async (key: TemplateKey, to: Recipient, values: Record<string, string>): Promise<NotificationInput> => {
    const category = categoryOf(key);
    const email = composeEmail(key, to.locale, to.email, { ...base, ...values }, category ? await links.unsubscribeUrl(to.id, category) : undefined);
    return notice(key, to.id, email);
  };
  const notice = (key: TemplateKey, userId: string | null, email: ComposedEmail): NotificationInput => ({
    userId,
    eventId: event.id,
    template: key,
    category: categoryOf(key),
    urgent: urgentTemplates.has(key),
    title: email.subject,
    body: email.summary,
    url: email.actionUrl,
    email: isPlaceholderEmail(email.to) ? null : email,
  });
  switch (event.type) {
    case "user.registered": {
      const d = event.data;
      const u = await user(db, d.userId);
      return u ? [await compose("welcome", u, { name: u.name })] : [];
    }
    case "enrollment.created":
    case "enrollment.promoted": {
      const d = event.data;
      const u = await user(db, d.userId);
      return u ? [await compose("enrolled", u, { name: u.name, course: await courseTitle(db, d.courseId), courseId: d.courseId })] : [];
    }
    case "enrollment.waitlisted": {
      const d = event.data;
      const u = await user(db, d.userId);
      return u ? [await compose("waitlisted", u, { name: u.name, course: await courseTitle(db, d.courseId), position: String(d.position) })] : [];
    }
    case "enrollment.offered": {
      const d = event.data;
      const u = await user(db, d.userId);
      return u ? [await compose("seat-offered", u, { name: u.name, course: await courseTitle(db, d.courseId), courseId: d.courseId, expiresAt: when(d.offerExpiresAt) })] : [];
    }
    case "enrollment.invited": {
      const d = event.data;
      const [known] = await db.select({ locale: users.locale }).from(users).where(eq(users.email, d.email));
      // To an address that may have no account: email only. Its link carries the token, so it never goes to an inbox.
      return [notice("invitation", null, composeEmail("invitation", known?.locale ?? "en", d.email, { ...base, course: await courseTitle(db, d.courseId), token: d.token, expiresAt: when(d.expiresAt) }))];
    }
    case "reminder.due": {
      const d = event.data;
      const u = await user(db, d.userId);
      if (!u) return [];
      const [a] = await db.select({ title: assessments.title }).from(assessments).where(eq(assessments.id, d.assessmentId));
      return [await compose("due-reminder", u, { name: u.name, assessment: a?.title ?? "Your assessment", course: await courseTitle(db, d.courseId), courseId: d.courseId, dueAt: when(d.dueAt) })];
    }
    case "attendance.low": {
      const d = event.data;
      const values = { course: await courseTitle(db, d.courseId), courseId: d.courseId, rate: percentText(d.ratePercent), threshold: percentText(d.thresholdPercent), period: d.period };
      const [learner] = await db.select({ name: users.displayName }).from(users).where(eq(users.id, d.userId));
      const u = await user(db, d.userId);
      const instructors = await db
        .select(recipientColumns)
        .from(courseStaff)
        .innerJoin(users, eq(users.id, courseStaff.userId))
        .where(and(eq(courseStaff.courseId, d.courseId), eq(courseStaff.role, "instructor"), seesLearner(d.userId)))
        .for("key share", { of: users });
      return [
        ...(u ? [await compose("attendance-low", u, { ...values, name: u.name })] : []),
        ...(await Promise.all(instructors.map((s) => compose("attendance-low-staff", s, { ...values, name: s.name, learner: learner?.name ?? "A learner" })))),
      ];
    }
    case "invoice.issued":
    case "credit-note.issued": {
      const d = event.data;
      const documentUrl: DocumentUrl = links.financeDocumentUrl ?? (async () => `${appUrl.replace(/\/+$/, "")}/invoices/${d.invoiceId}`);
      const what = event.type === "invoice.issued" ? { kind: "invoice" as const, invoiceId: d.invoiceId } : { kind: "credit-note" as const, creditNoteId: event.data.creditNoteId, invoiceId: d.invoiceId };
      return invoiceNotices(db, event.id, appUrl, documentUrl, what);
    }
    case "certificate.issued": {
      const d = event.data;
      const u = await user(db, d.userId);
      const [cert] = await db.select({ blobName: certificates.blobName }).from(certificates).where(eq(certificates.id, d.certificateId));
      if (!u || !cert) return [];
      const downloadUrl = await links.fileDownloadUrl(cert.blobName, "certificate.pdf");
      const issued = await compose("certificate-issued", u, { name: u.name, course: await courseTitle(db, d.courseId), code: d.code, downloadUrl });
      // The email's download link is a signed URL that expires in days: the inbox entry (kept, and exported) and
      // push lead to the certificate's own page instead.
      return [{ ...issued, url: `${appUrl.replace(/\/+$/, "")}/certificates/verify/${encodeURIComponent(d.code)}` }];
    }
    case "grading.requested":
    case "grading.overdue": {
      const d = event.data;
      const key = event.type === "grading.overdue" ? "grading-overdue" : "grading-requested";
      const staff = await db
        .select(recipientColumns)
        .from(courseStaff)
        .innerJoin(users, eq(users.id, courseStaff.userId))
        .where(eq(courseStaff.courseId, d.courseId))
        .for("key share", { of: users });
      const [a] = await db.select({ title: assessments.title }).from(assessments).where(eq(assessments.id, d.assessmentId));
      const course = await courseTitle(db, d.courseId);
      const values = { course, assessment: a?.title ?? "an assessment", items: d.items.join(", "), submissionId: d.submissionId };
      return Promise.all(staff.map((s) => compose(key, s, { ...values, name: s.name })));
    }
    case "grade.published": {
      const d = event.data;
      // Only a grade the learner can see, and only when results were released by the time it was recorded: a
      // grade held until a later release is announced by that release's own email instead.
      const [row] = await db
        .select({ ...recipientColumns, assessment: assessments.title, percent: grades.percent })
        .from(grades)
        .innerJoin(assessments, eq(assessments.id, grades.assessmentId))
        .innerJoin(users, eq(users.id, grades.userId))
        .where(
          and(
            eq(grades.id, d.gradeId),
            // Released (immediate, or released by hand no later than the grade was recorded): later releases announce it.
            sql`(${assessments.releaseMode} = 'immediate' or ${assessments.releasedAt} <= ${grades.createdAt})`,
          ),
        )
        .for("key share", { of: users });
      if (!row) return [];
      return [await compose("grade-published", row, { name: row.name, assessment: row.assessment, course: await courseTitle(db, d.courseId), percent: percentText(row.percent), gradeId: d.gradeId })];
    }
    case "assessment.results-released": {
      const d = event.data;
      // Learners with a grade who still take the course: one who left (dropped, removed) is not written to.
      const learners = await db
        .selectDistinct(recipientColumns)
        .from(grades)
        .innerJoin(users, eq(users.id, grades.userId))
        .innerJoin(enrollments, and(eq(enrollments.userId, grades.userId), eq(enrollments.courseId, grades.courseId), eq(enrollments.status, "active")))
        .where(and(eq(grades.courseId, d.courseId), eq(grades.assessmentId, d.assessmentId)));
      if (learners.length === 0) return [];
      const [a] = await db.select({ title: assessments.title }).from(assessments).where(eq(assessments.id, d.assessmentId));
      const values = { assessment: a?.title ?? "an assessment", course: await courseTitle(db, d.courseId), courseId: d.courseId };
      return Promise.all(learners.map((u) => compose("results-released", u, { ...values, name: u.name })));
    }
    case "webhook.disabled": {
      const d = event.data;
      const owner = d.ownerUserId ? await user(db, d.ownerUserId) : null;
      const [hook] = await db.select({ url: webhooks.url, description: webhooks.description }).from(webhooks).where(eq(webhooks.id, d.webhookId));
      if (!owner || !hook) return [];
      // The URL's path and query may carry the receiver's own token: the email names the host only.
      const host = new URL(hook.url).host;
      const endpoint = hook.description ? `"${hook.description}" (${host})` : host;
      return [await compose("webhook-disabled", owner, { name: owner.name, host, endpoint, failures: String(d.consecutiveFailures), since: when(d.failingSince), webhookId: d.webhookId })];
    }
    case "class-session.cancelled": {
      const d = event.data;
      const learners = await db
        .select(recipientColumns)
        .from(users)
        .where(expectedLearnersSql(d.sessionIds))
        .for("key share", { of: users });
      if (learners.length === 0) return [];
      const sessions = await cancelledSessions(db, d.sessionIds);
      const values = { course: await courseTitle(db, d.courseId), courseId: d.courseId, count: String(sessions.length), title: sessions[0]?.title ?? "" };
      return Promise.all(
        learners.map((u) => compose("class-cancelled", u, { ...values, name: u.name, sessions: cancelledSessionsText(sessions, u.locale), reason: sessions[0]?.cancelReason ?? (u.locale.startsWith("es") ? "no se ha indicado" : "none given") })),
      );
    }
    case "invoice.overdue": {
      const d = event.data;
      return dunningNotices(db, event.id, appUrl, { kind: "overdue", invoiceId: d.invoiceId, seq: d.seq, dueAt: d.dueAt, amountDueMinor: d.amountDueMinor });
    }
    case "enrollment.pending-payment":
      return seatHoldNotices(db, event.id, appUrl, { kind: "held", userId: event.data.userId, courseId: event.data.courseId, paymentDueAt: event.data.paymentDueAt });
    case "enrollment.payment-expired":
      return seatHoldNotices(db, event.id, appUrl, { kind: "released", userId: event.data.userId, courseId: event.data.courseId });
    case "enrollment.suspended":
      return dunningNotices(db, event.id, appUrl, { kind: "suspended", invoiceId: event.data.invoiceId, at: event.occurredAt });
    case "announcement.published":
      return announcementNotifications(db, event.id, event.data, appUrl, links);
    case "discussion.post-created":
      return discussionPostNotifications(db, event, appUrl, links);
    case "import.completed":
    case "import.failed": {
      const key = event.type === "import.failed" ? "import-failed" : "import-completed";
      const importer = await user(db, event.data.importerUserId);
      return importer ? [await compose(key, importer, { name: importer.name, ...(await importEmailValues(db, event, importer.locale)) })] : [];
    }
    default:
      return [];
  }
}

/**
 * Whether the course_staff row's instructor sees the learner, as SQL: scoped to no section (the whole course), or to
 * the section of the learner's active enrollment. A section-scoped instructor hears nothing of other sections' learners.
 */
function seesLearner(userId: string) {
  return staffSeesActiveLearner(courseStaff.courseId, courseStaff.userId, userId);
}
