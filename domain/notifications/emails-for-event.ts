import { eq } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { assessments, certificates, courses, courseStaff, users, webhooks } from "../db/schema/index.js";
import type { CatalogEvent } from "../events/catalog.js";
import { type ComposedEmail, composeEmail } from "./compose-email.js";

async function user(db: Executor, id: string) {
  const [row] = await db.select({ email: users.email, name: users.displayName, locale: users.locale }).from(users).where(eq(users.id, id));
  // External users without a known address have a placeholder one: there is nobody to write to.
  return row && !row.email.endsWith("@users.invalid") ? row : null;
}

async function courseTitle(db: Executor, id: string): Promise<string> {
  const [row] = await db.select({ title: courses.title }).from(courses).where(eq(courses.id, id));
  return row?.title ?? "your course";
}

const when = (iso: string) => new Date(iso).toUTCString();

/** The emails an event calls for, composed in each recipient's language; none for events nobody is told about. */
export interface EmailLinks {
  /** A long-lived (days) read link for a stored file, for emails that hand one over. */
  fileDownloadUrl(blobName: string, downloadName: string): Promise<string>;
}

export async function emailsForEvent(db: Executor, event: CatalogEvent, appUrl: string, links?: EmailLinks): Promise<ComposedEmail[]> {
  const base = { appUrl };
  switch (event.type) {
    case "user.registered": {
      const d = event.data;
      const u = await user(db, d.userId);
      return u ? [composeEmail("welcome", u.locale, u.email, { ...base, name: u.name })] : [];
    }
    case "enrollment.created":
    case "enrollment.promoted": {
      const d = event.data;
      const u = await user(db, d.userId);
      return u ? [composeEmail("enrolled", u.locale, u.email, { ...base, name: u.name, course: await courseTitle(db, d.courseId), courseId: d.courseId })] : [];
    }
    case "enrollment.waitlisted": {
      const d = event.data;
      const u = await user(db, d.userId);
      return u ? [composeEmail("waitlisted", u.locale, u.email, { ...base, name: u.name, course: await courseTitle(db, d.courseId), position: String(d.position) })] : [];
    }
    case "enrollment.offered": {
      const d = event.data;
      const u = await user(db, d.userId);
      return u
        ? [composeEmail("seat-offered", u.locale, u.email, { ...base, name: u.name, course: await courseTitle(db, d.courseId), courseId: d.courseId, expiresAt: when(d.offerExpiresAt) })]
        : [];
    }
    case "enrollment.invited": {
      const d = event.data;
      const [known] = await db.select({ locale: users.locale }).from(users).where(eq(users.email, d.email));
      return [composeEmail("invitation", known?.locale ?? "en", d.email, { ...base, course: await courseTitle(db, d.courseId), token: d.token, expiresAt: when(d.expiresAt) })];
    }
    case "reminder.due": {
      const d = event.data;
      const u = await user(db, d.userId);
      const [a] = await db.select({ title: assessments.title }).from(assessments).where(eq(assessments.id, d.assessmentId));
      return u
        ? [composeEmail("due-reminder", u.locale, u.email, { ...base, name: u.name, assessment: a?.title ?? "Your assessment", course: await courseTitle(db, d.courseId), courseId: d.courseId, dueAt: when(d.dueAt) })]
        : [];
    }
    case "certificate.issued": {
      const d = event.data;
      const u = await user(db, d.userId);
      const [cert] = await db.select({ blobName: certificates.blobName }).from(certificates).where(eq(certificates.id, d.certificateId));
      if (!u || !cert || !links) return [];
      const downloadUrl = await links.fileDownloadUrl(cert.blobName, "certificate.pdf");
      return [composeEmail("certificate-issued", u.locale, u.email, { ...base, name: u.name, course: await courseTitle(db, d.courseId), code: d.code, downloadUrl })];
    }
    case "grading.requested":
    case "grading.overdue": {
      const d = event.data;
      const staff = await db
        .select({ email: users.email, name: users.displayName, locale: users.locale })
        .from(courseStaff)
        .innerJoin(users, eq(users.id, courseStaff.userId))
        .where(eq(courseStaff.courseId, d.courseId));
      const [a] = await db.select({ title: assessments.title }).from(assessments).where(eq(assessments.id, d.assessmentId));
      const course = await courseTitle(db, d.courseId);
      const key = event.type === "grading.overdue" ? "grading-overdue" : "grading-requested";
      return staff
        .filter((s) => !s.email.endsWith("@users.invalid"))
        .map((s) => composeEmail(key, s.locale, s.email, { ...base, name: s.name, course, assessment: a?.title ?? "an assessment", items: d.items.join(", "), submissionId: d.submissionId }));
    }
    case "webhook.disabled": {
      const d = event.data;
      const owner = d.ownerUserId ? await user(db, d.ownerUserId) : null;
      const [hook] = await db.select({ url: webhooks.url, description: webhooks.description }).from(webhooks).where(eq(webhooks.id, d.webhookId));
      if (!owner || !hook) return [];
      // The URL's path and query may carry the receiver's own token: the email names the host only.
      const host = new URL(hook.url).host;
      const endpoint = hook.description ? `"${hook.description}" (${host})` : host;
      return [composeEmail("webhook-disabled", owner.locale, owner.email, { ...base, name: owner.name, host, endpoint, failures: String(d.consecutiveFailures), since: when(d.failingSince), webhookId: d.webhookId })];
    }
    default:
      return [];
  }
}
