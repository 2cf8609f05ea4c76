import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { escalateLeave, expireLeave, notifyApprovers, type WorkflowStep } from "../../domain/leave/decide-leave.js";
import { leaveDeadlines } from "../../domain/leave/leave-rules.js";
import { inDomainTransaction } from "../platform/domain-transaction.js";
import { platform } from "../platform/platform.js";
import type { LeaveStage } from "./leave-status.js";

export const LEAVE_ORCHESTRATION = "leaveApproval";
/**
 * Raised by the decide and withdraw routes after their commit, and by the leave-resume timer to nudge an overdue
 * instance; the orchestration reads the row on it (the payload is informative only).
 */
export const LEAVE_DECIDED_EVENT = "LeaveDecided";

export interface LeaveApprovalInput {
  applicationId: string;
  /** The application's created_at: both deadlines count from it, however late the orchestration starts. */
  createdAt: string;
  escalationHours: number;
  decisionHours: number;
}

// PostgreSQL or the mailer's recording may be briefly away; every step is idempotent, so it is simply run again.
const retry = new df.RetryOptions(2_000, 6);
retry.backoffCoefficient = 2;

const present = (step: WorkflowStep | null, applicationId: string): WorkflowStep => {
  if (!step) throw new Error(`leave application ${applicationId} does not exist`);
  return step;
};

const notify = df.app.activity("leave-notify", {
  handler: async (input: LeaveApprovalInput): Promise<WorkflowStep> => {
    const p = platform();
    const { escalatesAt } = leaveDeadlines(input);
    return present(await inDomainTransaction(p, {}, (ctx) => notifyApprovers(ctx, input.applicationId, { appUrl: p.settings.PUBLIC_APP_URL, escalatesAt })), input.applicationId);
  },
});

const escalate = df.app.activity("leave-escalate", {
  handler: async (input: LeaveApprovalInput): Promise<WorkflowStep> => {
    const p = platform();
    const { expiresAt } = leaveDeadlines(input);
    return present(await inDomainTransaction(p, {}, (ctx) => escalateLeave(ctx, input.applicationId, { appUrl: p.settings.PUBLIC_APP_URL, expiresAt })), input.applicationId);
  },
});

const expire = df.app.activity("leave-expire", {
  handler: async (input: LeaveApprovalInput): Promise<WorkflowStep> => {
    const p = platform();
    return present(await inDomainTransaction(p, {}, (ctx) => expireLeave(ctx, input.applicationId, { appUrl: p.settings.PUBLIC_APP_URL })), input.applicationId);
  },
});

/** What the route that closed the application raises (its outcome), or the leave-resume timer's nudge. */
export type LeaveDecidedPayload = { status: "approved" | "rejected" | "withdrawn"; by: string } | { nudge: true };

const done = (step: WorkflowStep): LeaveStage => ({ stage: "done", status: step.status as Extract<LeaveStage, { stage: "done" }>["status"] });

/**
 * leaveApproval: email the approvers → wait for LeaveDecided raced against the escalation timer → on the timer,
 * escalate (administrators emailed) and race LeaveDecided against the final timer → on that, expire. The outcome
 * is written by whoever closes the application first (a route's conditional update, or the expiry's); every step,
 * the one after LeaveDecided included, reads the row, so a decision whose event was lost (or raised before this
 * instance started) still ends it at the next timer.
 * Deterministic: deadlines from the input's createdAt, time only from context.df.currentUtcDateTime.
 */
const orchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<LeaveApprovalInput>();
  const { escalatesAt, expiresAt } = leaveDeadlines(input);
  context.df.setCustomStatus({ stage: "notifying" } satisfies LeaveStage);
  let step: WorkflowStep = yield notify(input).withRetry(retry);
  while (step.open) {
    const escalating = step.status === "pending";
    context.df.setCustomStatus(
      (escalating ? { stage: "waiting", escalatesAt: escalatesAt.toISOString() } : { stage: "escalated", expiresAt: expiresAt.toISOString() }) satisfies LeaveStage,
    );
    const now = context.df.currentUtcDateTime;
    const dueAt = escalating ? escalatesAt : expiresAt;
    const decided = context.df.waitForExternalEvent(LEAVE_DECIDED_EVENT);
    const timer = context.df.createTimer(dueAt < now ? now : dueAt);
    const winner = yield context.df.Task.any([decided, timer]);
    if (winner === decided) {
      if (!timer.isCompleted) timer.cancel();
      // The event only says "look again": the row says whether (and how) it closed, whatever the payload claims, so
      // a forged or stale event (or the leave-resume timer's nudge) cannot end an open application's workflow.
      step = yield notify(input).withRetry(retry);
    } else {
      step = yield (escalating ? escalate : expire)(input).withRetry(retry);
    }
  }
  context.df.setCustomStatus(done(step));
  return step;
};

df.app.orchestration(LEAVE_ORCHESTRATION, orchestrator);
