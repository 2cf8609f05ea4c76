import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { gradeSubmission, recordGrade } from "../../domain/grading/grade-submission.js";
import { recordEvent } from "../../domain/outbox/record-event.js";
import { createLogger } from "../platform/log.js";
import { inDomainTransaction } from "../platform/domain-transaction.js";
import { platform } from "../platform/platform.js";

export interface GradingInput {
  submissionId: string;
  /** Which grade version this run records: 1 at submission, one more for each regrade. */
  version: number;
  /** How long graders have before the escalation reminder (hours). */
  gradingSlaHours: number;
  traceparent: string | null;
}

export const gradingInstanceId = (submissionId: string) => `grade-${submissionId}`;
export const MANUAL_GRADE_EVENT = "ManualGradeSubmitted";

const loadSubmission = df.app.activity("grading-load", {
  handler: async (submissionId: string) => {
    const outcome = await gradeSubmission(platform().database.db, submissionId);
    if (!outcome) throw new Error(`submission ${submissionId} is not submitted or does not exist`);
    return { waitingItems: outcome.waitingItems, courseId: outcome.courseId, assessmentId: outcome.assessmentId };
  },
});

const tellGraders = df.app.activity("grading-notify", {
  handler: async (input: { submissionId: string; courseId: string; assessmentId: string; items: string[]; overdue: boolean; traceparent: string | null }) => {
    await inDomainTransaction(platform(), { traceparent: input.traceparent }, (ctx) =>
      recordEvent(ctx, {
        type: input.overdue ? "grading.overdue" : "grading.requested",
        aggregateType: "submission",
        aggregateId: input.submissionId,
        courseId: input.courseId,
        data: { submissionId: input.submissionId, courseId: input.courseId, assessmentId: input.assessmentId, items: input.items },
      }),
    );
  },
});

const recordFinalGrade = df.app.activity("grading-record", {
  handler: async (input: { submissionId: string; version: number; traceparent: string | null }) => {
    const outcome = await gradeSubmission(platform().database.db, input.submissionId);
    if (!outcome) throw new Error(`submission ${input.submissionId} vanished`);
    const recorded = await inDomainTransaction(platform(), { traceparent: input.traceparent }, (ctx) => recordGrade(ctx, outcome, input.version));
    // A pending grade here means a manual score was withdrawn meanwhile: fail so the retry policy re-reads.
    if (!recorded.ok) throw new Error(recorded.error.detail ?? recorded.error.code);
    createLogger({ level: platform().settings.LOG_LEVEL, fields: { activity: "grading-record" } }).info("grade recorded", { ...recorded.value, submissionId: input.submissionId });
    return { gradeId: recorded.value.gradeId, percent: outcome.grade.percent };
  },
});

const retry = new df.RetryOptions(2_000, 5);

/**
 * gradeSubmission: load → (tell graders, then wait for their scores raced against an escalation timer,
 * reminding them each time it fires) → record the grade (idempotent per version; writes grade.published).
 * Deterministic: time only from context.df.currentUtcDateTime, no I/O outside activities.
 */
const orchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<GradingInput>();
  let state = yield loadSubmission(input.submissionId);
  if (state.waitingItems.length > 0) {
    context.df.setCustomStatus({ phase: "waiting-for-grader", items: state.waitingItems });
    yield tellGraders({ ...input, courseId: state.courseId, assessmentId: state.assessmentId, items: state.waitingItems, overdue: false });
    let deadline = new Date(context.df.currentUtcDateTime.getTime() + input.gradingSlaHours * 3_600_000);
    while (state.waitingItems.length > 0) {
      const scored = context.df.waitForExternalEvent(MANUAL_GRADE_EVENT);
      const escalation = context.df.createTimer(deadline);
      const winner = yield context.df.Task.any([scored, escalation]);
      if (winner === scored) {
        if (!escalation.isCompleted) escalation.cancel();
        state = yield loadSubmission(input.submissionId);
      } else {
        yield tellGraders({ ...input, courseId: state.courseId, assessmentId: state.assessmentId, items: state.waitingItems, overdue: true });
        deadline = new Date(deadline.getTime() + 24 * 3_600_000);
      }
    }
  }
  context.df.setCustomStatus({ phase: "recording" });
  const recorded = yield recordFinalGrade({ submissionId: input.submissionId, version: input.version, traceparent: input.traceparent }).withRetry(retry);
  context.df.setCustomStatus({ phase: "graded", gradeId: recorded.gradeId });
  return recorded;
};

df.app.orchestration("gradeSubmission", orchestrator);
