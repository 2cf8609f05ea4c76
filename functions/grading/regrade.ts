import { sql } from "drizzle-orm";
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { submissionsToRegrade } from "../../domain/assessment/change-assessment.js";
import { gradeSubmission, nextGradeVersion, recordGrade, regradeDifference } from "../../domain/grading/grade-submission.js";
import { systemActor } from "../../domain/shared/context.js";
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
  handler: async (assessmentId: string) => {
    const p = platform();
    return submissionsToRegrade({ db: p.database.db, now: p.clock, newId: p.newId, actor: systemActor }, assessmentId);
  },
});

const regradeOne = df.app.activity("regrade-one", {
  handler: async (input: { submissionId: string; traceparent: string | null }) => {
    const p = platform();
    const outcome = await gradeSubmission(p.database.db, input.submissionId);
    const difference = await regradeDifference(p.database.db, input.submissionId, outcome);
    if (!outcome || !difference) return null;
    // A new version, never an overwrite; a retried activity finds its version recorded already.
    await inDomainTransaction(p, { traceparent: input.traceparent }, async (ctx) => {
      // The newest grade already carries this key version (a retried activity): nothing to add.
      const [latest] = await ctx.db.execute<{ key_version: number }>(sql`select key_version from grades where submission_id = ${input.submissionId} order by version desc limit 1`);
      if (latest && latest.key_version >= outcome.keyVersion) return;
      await recordGrade(ctx, outcome, await nextGradeVersion(ctx.db, input.submissionId));
    });
    return difference;
  },
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
