import { sql } from "drizzle-orm";
import { auditLog } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";

export const auditActions = [
  "user.registered",
  "user.roles-changed",
  "user.sessions-revoked",
  "user.password-changed",
  "user.profile-updated",
  "user.notification-preferences-changed",
  "user.external-linked",
  "user.email-verified",
  "user.password-reset-requested",
  "user.password-reset",
  "user.invited",
  "user.invitation-revoked",
  "user.invitation-accepted",
  "user.imported",
  "admin.bootstrapped",
  "auth.login-succeeded",
  "auth.login-failed",
  "auth.login-locked",
  "auth.refresh-family-revoked",
  "auth.logout",
  "auth.two-factor-challenged",
  "auth.two-factor-failed",
  "auth.two-factor-locked",
  "auth.recovery-code-used",
  "user.deactivated",
  "user.reactivated",
  "user.two-factor-enabled",
  "user.phone-changed",
  "user.phone-verified",
  "user.phone-removed",
  "user.two-factor-disabled",
  "user.two-factor-reset",
  "user.recovery-codes-regenerated",
  "auth.session-ended",
  "course.staff-added",
  "course.staff-removed",
  "course.staff-sections-changed",
  "grade.manual-scored",
  "grade.recorded",
  "grade.categories-changed",
  "grade.excused",
  "webhook.registered",
  "webhook.updated",
  "webhook.deleted",
  "webhook.auto-disabled",
  "webhook.secrets-resealed",
  "privacy.export-requested",
  "privacy.export-ready",
  "privacy.erasure-scheduled",
  "privacy.erasure-cancelled",
  "privacy.user-erased",
  "attendance.policy-changed",
  "attendance.changed-after-window",
  "calendar-feed.created",
  "calendar-feed.revoked",
  "import.started",
  "import.cancelled",
  "generation.started",
  "leave.requested",
  "leave.decided",
  "leave.withdrawn",
  "discussion.pinned",
  "discussion.unpinned",
  "discussion.locked",
  "discussion.unlocked",
  "discussion.hidden",
  "discussion.unhidden",
  "discussion.deleted",
  "announcement.deleted",
  "invoice.credited",
  "payment.recorded",
  "payment.refunded",
  "fee.created",
  "fee.changed",
  "fee.retired",
  "fee.discount-granted",
  "fee.discount-revoked",
  "rubric.created",
  "rubric.changed",
  "rubric.deleted",
  "assessment.rubrics-attached",
  "question-bank.created",
  "question-bank.deleted",
  "question-bank.sharing-changed",
  "question-bank.imported",
  "bank-item.approved",
  "bank-item.revised",
  "bank-item.retired",
] as const;
export type AuditAction = (typeof auditActions)[number];

export interface AuditEntry {
  action: AuditAction;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
  /** Overrides the context's actor, e.g. for a login where the actor is only known afterwards. */
  actorUserId?: string | null;
}

/** Appends one audit row in the caller's transaction: it commits or rolls back with the change it records. */
export async function recordAudit(ctx: DomainContext, entry: AuditEntry): Promise<void> {
  await ctx.db.insert(auditLog).values({
    id: ctx.newId(),
    occurredAt: ctx.now(),
    action: entry.action,
    actorUserId: entry.actorUserId === undefined ? ctx.actor.userId : entry.actorUserId,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    requestId: ctx.actor.requestId,
    clientIp: ctx.actor.clientIp,
    details: entry.details ?? {},
  });
}

/** Appends many audit rows in one statement (a batch of an import), in the caller's transaction. */
export async function recordAudits(ctx: DomainContext, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  // One array per column (unnest): a row per VALUES tuple costs far more to build and bind at hundreds of rows.
  const column = <T>(pick: (entry: AuditEntry) => T) => sql.param(entries.map(pick));
  await ctx.db.execute(sql`
    insert into ${auditLog} (id, occurred_at, action, actor_user_id, target_type, target_id, request_id, client_ip, details)
    select v.id, ${ctx.now().toISOString()}::timestamptz, v.action, v.actor, v.target_type, v.target_id, ${ctx.actor.requestId}, ${ctx.actor.clientIp}, v.details::jsonb
    from unnest(${column(() => ctx.newId())}::uuid[], ${column((e) => e.action)}::text[],
      ${column((e) => (e.actorUserId === undefined ? ctx.actor.userId : e.actorUserId))}::uuid[], ${column((e) => e.targetType ?? null)}::text[],
      ${column((e) => e.targetId ?? null)}::text[], ${column((e) => JSON.stringify(e.details ?? {}))}::text[]) as v(id, action, actor, target_type, target_id, details)`);
}
