import * as df from "durable-functions";
import { type GradingInput, gradingInstanceId } from "../grading/grade-submission.js";
import { subscriptionHandler } from "../platform/subscription.js";
import { type RegradeInput, regradeInstanceId } from "../grading/regrade.js";

const stillRunning = new Set<string>([df.OrchestrationRuntimeStatus.Pending, df.OrchestrationRuntimeStatus.Running, df.OrchestrationRuntimeStatus.ContinuedAsNew, df.OrchestrationRuntimeStatus.Suspended]);

// The `grading` subscription: each submission starts its gradeSubmission orchestration under a
// deterministic instance id, so a redelivered message (or a second start) never grades twice.
subscriptionHandler({
  name: "start-grading-on-submission",
  subscription: "grading",
  extraInputs: [df.input.durableClient()],
  handle: async (event, ctx) => {
    if (event.type === "assessment.key-changed") {
      const { data } = event;
      const client = df.getClient(ctx.invocation);
      const instanceId = regradeInstanceId(data.assessmentId, data.keyVersion);
      if ((await client.getStatus(instanceId).catch(() => undefined))?.runtimeStatus) return;
      const input: RegradeInput = { assessmentId: data.assessmentId, keyVersion: data.keyVersion, batchSize: 20, traceparent: ctx.domain.actor.traceparent };
      await client.startNew("regradeAssessment", { instanceId, input });
      ctx.log.info("regrade started", { instanceId });
      return;
    }
    if (event.type !== "submission.submitted") return;
    const { data } = event;
    const client = df.getClient(ctx.invocation);
    const instanceId = gradingInstanceId(data.submissionId);
    const input: GradingInput = { submissionId: data.submissionId, version: 1, gradingSlaHours: ctx.platform.settings.GRADING_SLA_HOURS, traceparent: ctx.domain.actor.traceparent, oneStep: true };
    // One call: the extension refuses a start while an instance with the id is Pending or Running (HTTP 500
    // "already exists"), so a redelivered message changes nothing. A finished instance is replaced, and its rerun
    // records nothing new: one grade per (submission, version).
    try {
      await client.startNew("gradeSubmission", { instanceId, input });
    } catch (error) {
      const existing = await client.getStatus(instanceId).catch(() => undefined);
      if (!existing?.runtimeStatus || !stillRunning.has(existing.runtimeStatus)) throw error;
      ctx.log.info("grading already started", { instanceId, runtimeStatus: existing.runtimeStatus });
      return;
    }
    ctx.log.info("grading started", { instanceId });
  },
});
