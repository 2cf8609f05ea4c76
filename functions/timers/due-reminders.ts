import { app, type InvocationContext, type Timer } from "@azure/functions";
import { sendDueReminders } from "../../domain/assessment/due-reminders.js";
import { systemActor } from "../../domain/shared/context.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";

// Hourly: learners with work due in the next 24 h that they have not submitted get one reminder each.
app.timer("due-reminders", {
  schedule: "%DUE_REMINDERS_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "due-reminders" } });
    const sent = await p.database.db.transaction((tx) => sendDueReminders({ db: tx, now: p.clock, newId: p.newId, actor: { ...systemActor, requestId: context.invocationId } }, 24));
    if (sent > 0) await p.relay.publishPending({ log });
    log.info("due reminders", { sent });
  },
});
