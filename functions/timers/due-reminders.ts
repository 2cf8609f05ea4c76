import { app, type InvocationContext, type Timer } from "@azure/functions";
import { sendDueReminders } from "../../domain/assessment/due-reminders.js";
import { inDomainTransaction } from "../platform/domain-transaction.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";

// Hourly: learners with work due in the next 24 h that they have not submitted get one reminder each.
app.timer("due-reminders", {
  schedule: "%DUE_REMINDERS_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "due-reminders" } });
    const sent = await inDomainTransaction(p, { requestId: context.invocationId }, (ctx) => sendDueReminders(ctx, 24), log);
    log.info("due reminders", { sent });
  },
});
