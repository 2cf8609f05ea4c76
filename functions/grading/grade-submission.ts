import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { type AutoGradeOutcome, gradeAndRecord, gradeSubmission } from "../../domain/grading/grade-submission.js";
import { recordEvent } from "../../domain/outbox/record-event.js";
import { createLogger } from "../platform/log.js";
import { inDomainTransaction } from "../platform/domain-transaction.js";
import { platform } from "../platform/platform.js";
import type { GradingStatus } from "./grading-status.js";

export interface GradingInput {
  submissionId: string;
  /** Which grade version this run records: 1 at submission, one more for each regrade. */
  version: number;
  /** How long graders have before the escalation reminder (hours). */
  gradingSlaHours: number;
  traceparent: string | null;
  /**
   * Set by every start since the one-step path: the first activity grades and, when nobody needs to grade by
   * hand, records at once. Instances started before it have no flag and replay the load step they recorded
   * (an orchestrator must ask for the same activities on replay; essays can wait days for a grader).
   */
  oneStep?: boolean;
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

/** The automatic path in one unit of work: grade, and record when no item needs a person (see gradeAndRecord). */
const gradeAutomatically = df.app.activity("grading-auto", {
  handler: async (input: { submissionId: string; version: number; traceparent: string | null }): Promise<AutoGradeOutcome> => {
    const outcome = await inDomainTransaction(platform(), { traceparent: input.traceparent }, (ctx) => gradeAndRecord(ctx, input.submissionId, input.version));
    if (!outcome) throw new Error(`submission ${input.submissionId} is not submitted or does not exist`);
    // A final grade without a percent (a manual score withdrawn meanwhile): fail so the retry policy re-reads.
    if (!outcome.ok) throw new Error(outcome.error.detail ?? outcome.error.code);
    if (outcome.value.kind === "recorded" && outcome.value.first) {
      createLogger({ level: platform().settings.LOG_LEVEL, fields: { activity: "grading-auto" } }).info("grade recorded", { gradeId: outcome.value.gradeId, submissionId: input.submissionId });
    }
    return outcome.value;
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
    const outcome = await inDomainTransaction(platform(), { traceparent: input.traceparent }, (ctx) => gradeAndRecord(ctx, input.submissionId, input.version));
    if (!outcome) throw new Error(`submission ${input.submissionId} vanished`);
    // Not recorded here means a manual score was withdrawn meanwhile: fail so the retry policy re-reads.
    if (!outcome.ok) throw new Error(outcome.error.detail ?? outcome.error.code);
    if (outcome.value.kind !== "recorded") throw new Error(`items ${outcome.value.waitingItems.join(", ")} of submission ${input.submissionId} wait for a grader again`);
    createLogger({ level: platform().settings.LOG_LEVEL, fields: { activity: "grading-record" } }).info("grade recorded", { gradeId: outcome.value.gradeId, first: outcome.value.first, submissionId: input.submissionId });
    return { gradeId: outcome.value.gradeId, percent: outcome.value.percent };
  },
});

const retry = new df.RetryOptions(2_000, 5);

/**
 * gradeSubmission: grade, recording at once when no item needs a person (one activity: the common case) →
 * otherwise (tell graders, then wait for their scores raced against an escalation timer,
 * reminding them each time it fires) → record the grade (idempotent per version; writes grade.published).
 * Deterministic: time only from context.df.currentUtcDateTime, no I/O outside activities.
 */
const orchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<GradingInput>();
  let state: { waitingItems: string[]; courseId: string; assessmentId: string };
  if (input.oneStep) {
    context.df.setCustomStatus({ phase: "recording" } satisfies GradingStatus);
    const first: AutoGradeOutcome = yield gradeAutomatically({ submissionId: input.submissionId, version: input.version, traceparent: input.traceparent }).withRetry(retry);
    if (first.kind === "recorded") {
      context.df.setCustomStatus({ phase: "graded", gradeId: first.gradeId } satisfies GradingStatus);
      return { gradeId: first.gradeId, percent: first.percent };
    }
    state = first;
  } else {
    state = yield loadSubmission(input.submissionId);
  }
  if (state.waitingItems.length > 0) {
    context.df.setCustomStatus({ phase: "waiting-for-grader", items: state.waitingItems } satisfies GradingStatus);
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
  context.df.setCustomStatus({ phase: "recording" } satisfies GradingStatus);
  const recorded = yield recordFinalGrade({ submissionId: input.submissionId, version: input.version, traceparent: input.traceparent }).withRetry(retry);
  context.df.setCustomStatus({ phase: "graded", gradeId: recorded.gradeId } satisfies GradingStatus);
  return recorded;
};

df.app.orchestration("gradeSubmission", orchestrator);
