import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { submissionsToRegrade } from "../../domain/assessment/change-assessment.js";
import { regradeSubmission } from "../../domain/assessment/regrade.js";
import { inDomainTransaction } from "../platform/domain-transaction.js";
import { platform } from "../platform/platform.js";

export interface RegradeInput {
  assessmentId: string;
  keyVersion: number;
  batchSize: number;
  traceparent: string | null;
}

export const regradeInstanceId = (assessmentId: string, keyVersion: number) => `regrade-${assessmentId}-k${keyVersion}`;

const listAffected = df.app.activity("regrade-list", {
  handler: async (assessmentId: string) => submissionsToRegrade(platform().database.db, assessmentId),
});

const regradeOne = df.app.activity("regrade-one", {
  // A new grade version, never an overwrite; a retried activity finds its version recorded already.
  handler: async (input: { submissionId: string; traceparent: string | null }) =>
    inDomainTransaction(platform(), { traceparent: input.traceparent }, (ctx) => regradeSubmission(ctx, input.submissionId)),
});

const regradeSubmissionOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ submissionId: string; traceparent: string | null }>();
  return yield regradeOne(input);
};
df.app.orchestration("regradeSubmission", regradeSubmissionOrchestrator);

/** Regrades every affected submission as sub-orchestrations, `batchSize` at a time. */
const regradeAssessmentOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<RegradeInput>();
  const affected: string[] = yield listAffected(input.assessmentId);
  const results: unknown[] = [];
  for (let i = 0; i < affected.length; i += input.batchSize) {
    const batch = affected.slice(i, i + input.batchSize);
    context.df.setCustomStatus({ done: i, total: affected.length });
    const done: unknown[] = yield context.df.Task.all(
      batch.map((submissionId) =>
        context.df.callSubOrchestrator("regradeSubmission", { submissionId, traceparent: input.traceparent }, `${context.df.instanceId}:${submissionId}`),
      ),
    );
    results.push(...done);
  }
  context.df.setCustomStatus({ done: affected.length, total: affected.length });
  return { regraded: results.filter(Boolean).length };
};
df.app.orchestration("regradeAssessment", regradeAssessmentOrchestrator);
