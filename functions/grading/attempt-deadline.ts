import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { submitAttempt } from "../../domain/assessment/attempts.js";
import { inDomainTransaction } from "../platform/domain-transaction.js";
import { platform } from "../platform/platform.js";

export const deadlineInstanceId = (attemptId: string) => `deadline-${attemptId}`;

const submitAtDeadline = df.app.activity("attempt-submit-at-deadline", {
  handler: async (attemptId: string) => {
    const result = await inDomainTransaction(platform(), {}, (ctx) => submitAttempt(ctx, attemptId, "deadline"));
    return result.ok ? { submitted: result.value.first } : { submitted: false };
  },
});

/** One durable timer per timed attempt: at its deadline the attempt is submitted (a no-op if it was already). */
const orchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ attemptId: string; deadlineAt: string }>();
  yield context.df.createTimer(new Date(input.deadlineAt));
  return yield submitAtDeadline(input.attemptId);
};

df.app.orchestration("attemptDeadline", orchestrator);
