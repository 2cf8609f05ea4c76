import * as df from "durable-functions";
import { leaveInstanceId } from "../../domain/leave/apply-leave.js";
import type { Platform } from "../platform/platform.js";
import { LEAVE_ORCHESTRATION, type LeaveApprovalInput } from "./leave-approval.js";

// The client answers a missing instance with an error naming HTTP 404.
const missing = (err: unknown) => err instanceof Error && /\b404\b/.test(err.message);

/**
 * Starts an application's `leave-<id>` orchestration unless one is there already (Pending, Running or finished):
 * after the apply commits, and again from the leave-resume timer for an application whose start was lost. A Failed
 * instance is started again (every step is idempotent).
 */
export async function startLeaveApproval(p: Platform, client: df.DurableClient, application: { id: string; createdAt: Date }): Promise<boolean> {
  const instanceId = leaveInstanceId(application.id);
  const status = await client.getStatus(instanceId).catch((err: unknown) => {
    if (missing(err)) return null;
    throw err;
  });
  if (status?.runtimeStatus && status.runtimeStatus !== df.OrchestrationRuntimeStatus.Failed) return false;
  const input: LeaveApprovalInput = {
    applicationId: application.id,
    createdAt: application.createdAt.toISOString(),
    escalationHours: p.settings.LEAVE_ESCALATION_HOURS,
    decisionHours: p.settings.LEAVE_DECISION_HOURS,
  };
  await client.startNew(LEAVE_ORCHESTRATION, { instanceId, input });
  return true;
}
