import { app, type InvocationContext, type Timer } from "@azure/functions";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";

// Every 10 s: publishes committed events whose post-commit publish was lost (crash, timeout, outage).
app.timer("outbox-sweep", {
  schedule: "%OUTBOX_SWEEP_SCHEDULE%",
  handler: async (timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "outbox-sweep" } });
    const published = await p.relay.publishPending({ log });
    if (published > 0 || timer.isPastDue) log.info("outbox swept", { published, isPastDue: timer.isPastDue });
  },
});
