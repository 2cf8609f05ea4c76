import { app, type InvocationContext, type Timer } from "@azure/functions";
import { claimDueDeliveries } from "../../domain/webhooks/webhooks.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";
import { attemptDeliveries, deliveryLeaseSeconds } from "../platform/webhook-dispatch.js";

// Every minute: webhook deliveries whose retry is due are sent again (claimed with a lease, so never twice at once).
app.timer("webhook-retries", {
  schedule: "%WEBHOOK_RETRY_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "webhook-retries" } });
    const lease = deliveryLeaseSeconds(p);
    for (let round = 0; round < 10; round++) {
      const due = await claimDueDeliveries(p.database.db, p.clock(), 50, lease);
      if (due.length === 0) break;
      await attemptDeliveries(p, due, log);
    }
  },
});
