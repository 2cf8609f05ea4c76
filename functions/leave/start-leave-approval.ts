import * as df from "durable-functions";
import { leaveInstanceId } from "../../domain/leave/apply-leave.js";
import { instanceStatus } from "../platform/durable-status.js";
import type { Platform } from "../platform/platform.js";
import { LEAVE_ORCHESTRATION, type LeaveApprovalInput } from "./leave-approval.js";

// An instance in one of these is over without having closed an open application: it is started again.
const ended: readonly df.OrchestrationRuntimeStatus[] = [df.OrchestrationRuntimeStatus.Failed, df.OrchestrationRuntimeStatus.Terminated];

/**
 * Starts an application's `leave-<id>` orchestration unless one is there already (Pending, Running or Completed):
 * after the apply commits, and from the leave-resume timer for an application whose start was lost or whose instance
 * failed or was terminated (an activity out of retries). Such an instance is started again under the same id (every
 * step is idempotent and reads the row). Answers "started", or the runtime status it left alone.
 */
export async function startLeaveApproval(p: Platform, client: df.DurableClient, application: { id: string; createdAt: Date }): Promise<"started" | df.OrchestrationRuntimeStatus> {
  const instanceId = leaveInstanceId(application.id);
  const status = await instanceStatus(client, instanceId);
  if (status?.runtimeStatus && !ended.includes(status.runtimeStatus)) return status.runtimeStatus;
  const input: LeaveApprovalInput = {
    applicationId: application.id,
    createdAt: application.createdAt.toISOString(),
    escalationHours: p.settings.LEAVE_ESCALATION_HOURS,
    decisionHours: p.settings.LEAVE_DECISION_HOURS,
  };
  await client.startNew(LEAVE_ORCHESTRATION, { instanceId, input });
  return "started";
}
