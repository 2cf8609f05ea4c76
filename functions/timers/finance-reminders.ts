import { app, type InvocationContext, type Timer } from "@azure/functions";
import { runDunning } from "../../domain/finance/dunning.js";
import { onDomainPool } from "../platform/domain-transaction.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";

// Hourly: due-soon reminders, overdue notices (`invoice.overdue`), late fees and, when configured, suspensions, each
// once per (invoice, stage). Safe to run late, twice or on two instances at once (the stage rows decide who acts).
app.timer("finance-reminders", {
  schedule: "%FINANCE_REMINDERS_SCHEDULE%",
  handler: async (timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "finance-reminders" } });
    const run = await onDomainPool(
      p,
      { requestId: context.invocationId },
      (ctx) =>
        runDunning(ctx, {
          dueSoonDays: p.settings.INVOICE_DUE_SOON_DAYS,
          suspendAfterDays: p.settings.ENROLLMENT_SUSPEND_AFTER_DAYS,
          appUrl: p.settings.PUBLIC_APP_URL,
        }),
      log,
    );
    log.info("finance reminders", { ...run, isPastDue: timer.isPastDue });
  },
});
