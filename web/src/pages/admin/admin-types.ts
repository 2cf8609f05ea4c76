import type { operations, paths } from "../../api/schema";
import { everyOf } from "../../lib/every-of";

/** The event types a webhook may subscribe to, as the API declares them. */
export type WebhookEvent = NonNullable<NonNullable<paths["/v1/webhooks"]["post"]["requestBody"]>["content"]["application/json"]["eventTypes"]>[number];
/** The subscriptions whose dead letters the API lists. */
export type Subscription = NonNullable<NonNullable<operations["ops-dead-letters-list"]["parameters"]["query"]>["subscription"]>;
/** The actions the audit log can be filtered by. */
export type AuditAction = NonNullable<NonNullable<operations["audit-log-list"]["parameters"]["query"]>["action"]>;
export type GlobalRole = NonNullable<paths["/v1/users/{userId}/roles"]["put"]["requestBody"]>["content"]["application/json"]["roles"][number];

export const subscriptions = everyOf<Subscription>()(["emails", "webhooks", "progress", "certificates", "grading", "activity"]);

export const globalRoles = everyOf<GlobalRole>()(["admin", "finance", "course-creator"]);

export const webhookEvents = everyOf<WebhookEvent>()([
  "user.registered", "user.deactivated", "user.reactivated", "user.erased",
  "course.created", "course.updated", "course.published", "course.archived", "course.staff-added", "course.staff-removed", "course.completed",
  "lesson.completed", "progress.updated",
  "enrollment.created", "enrollment.waitlisted", "enrollment.offered", "enrollment.promoted", "enrollment.pending-payment", "enrollment.payment-expired",
  "enrollment.section-changed", "enrollment.suspended", "enrollment.offer-expired", "enrollment.offer-declined", "enrollment.dropped", "enrollment.invited",
  "submission.submitted", "grade.published", "grading.requested", "grading.overdue", "assessment.key-changed", "assessment.results-released",
  "attendance.recorded", "attendance.policy-changed", "attendance.low", "class-session.cancelled",
  "certificate.issued", "reminder.due", "evaluation.opened", "evaluation.closed",
  "announcement.published", "discussion.post-created", "webhook.disabled", "import.completed", "import.failed", "leave.requested", "leave.decided",
  "invoice.issued", "invoice.paid", "invoice.overdue", "invoice.voided", "credit-note.issued", "payment.received", "payment.refunded",
]);

export const auditActions = everyOf<AuditAction>()([
  "user.registered", "user.roles-changed", "user.sessions-revoked", "user.password-changed", "user.profile-updated", "user.notification-preferences-changed",
  "user.external-linked", "user.email-verified", "user.password-reset-requested", "user.password-reset", "user.invited", "user.invitation-revoked",
  "user.invitation-accepted", "user.imported", "admin.bootstrapped", "auth.login-succeeded", "auth.login-failed", "auth.login-locked",
  "auth.refresh-family-revoked", "auth.logout", "auth.two-factor-challenged", "auth.two-factor-failed", "auth.two-factor-locked", "auth.recovery-code-used",
  "user.deactivated", "user.reactivated", "user.two-factor-enabled", "user.phone-changed", "user.phone-verified", "user.phone-removed",
  "user.two-factor-disabled", "user.two-factor-reset", "user.recovery-codes-regenerated", "auth.session-ended", "course.staff-added", "course.staff-removed",
  "course.staff-sections-changed", "grade.manual-scored", "grade.recorded", "grade.categories-changed", "grade.excused", "webhook.registered",
  "webhook.updated", "webhook.deleted", "webhook.auto-disabled", "webhook.secrets-resealed", "privacy.export-requested", "privacy.export-ready",
  "privacy.erasure-scheduled", "privacy.erasure-cancelled", "privacy.user-erased", "attendance.policy-changed", "attendance.changed-after-window",
  "calendar-feed.created", "calendar-feed.revoked", "import.started", "import.cancelled", "generation.started", "leave.requested", "leave.decided",
  "leave.withdrawn", "discussion.pinned", "discussion.unpinned", "discussion.locked", "discussion.unlocked", "discussion.hidden", "discussion.unhidden",
  "discussion.deleted", "announcement.deleted", "invoice.credited", "payment.recorded", "payment.refunded", "fee.created", "fee.changed", "fee.retired",
  "fee.discount-granted", "fee.discount-revoked", "rubric.created", "rubric.changed", "rubric.deleted", "assessment.rubrics-attached",
  "question-bank.created", "question-bank.deleted", "question-bank.sharing-changed", "question-bank.imported", "bank-item.approved", "bank-item.revised",
  "bank-item.retired",
]);
