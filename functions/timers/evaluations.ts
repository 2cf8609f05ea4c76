import { app, type InvocationContext, type Timer } from "@azure/functions";
import { pruneClosedResponses, runEvaluationTimer } from "../../domain/evaluations/evaluation-timer.js";
import { inDomainTransaction } from "../platform/domain-transaction.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";
import { emailUnsubscribeLinks } from "../platform/unsubscribe-links.js";

// Every 5 minutes by default: opens the course evaluations due (telling their learners), reminds those who have not
// answered once, closes the evaluations due. Counts only in the log: never who answered.
app.timer("evaluations", {
  schedule: "%EVALUATIONS_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "evaluations" } });
    const links = await emailUnsubscribeLinks(p.settings);
    const run = await inDomainTransaction(
      p,
      { requestId: context.invocationId },
      (ctx) =>
        runEvaluationTimer(ctx, {
          reminderHours: p.settings.EVALUATION_REMINDER_HOURS,
          receiptKey: p.settings.EVALUATION_RECEIPT_KEY,
          appUrl: p.settings.PUBLIC_APP_URL,
          unsubscribeUrl: links.unsubscribeUrl,
        }),
      log,
    );
    log.info("evaluations", { ...run });
    if (run.closed > 0) {
      // Best effort: the close has committed; autovacuum prunes what this does not.
      try {
        await pruneClosedResponses(p.database.db);
      } catch (err) {
        log.warn("vacuum of evaluation_responses after a close failed; autovacuum will prune the rewritten rows", { error: (err as Error).message });
      }
    }
  },
});
