import { z } from "zod";
import { closedLeaveStatuses } from "../../domain/db/schema/index.js";

/**
 * What the leaveApproval orchestration sets as its custom status, stage by stage; the orchestrator sets it through
 * this type and the leave routes document it with this schema, so the two cannot drift.
 */
export const leaveStageSchema = z.discriminatedUnion("stage", [
  z.object({ stage: z.literal("notifying") }).meta({ description: "Emailing the approvers" }),
  z.object({ stage: z.literal("waiting"), escalatesAt: z.iso.datetime() }).meta({ description: "Waiting for a decision; escalates to the administrators at `escalatesAt`" }),
  z.object({ stage: z.literal("escalated"), expiresAt: z.iso.datetime() }).meta({ description: "Escalated; expires at `expiresAt` if nobody decides" }),
  z.object({ stage: z.literal("done"), status: z.enum(closedLeaveStatuses) }).meta({ description: "The outcome is recorded" }),
]);

export type LeaveStage = z.infer<typeof leaveStageSchema>;
