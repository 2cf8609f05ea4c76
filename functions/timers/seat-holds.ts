import { app, type InvocationContext, type Timer } from "@azure/functions";
import { releaseExpiredHolds } from "../../domain/finance/seat-holds.js";
import { systemActor } from "../../domain/shared/context.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";

// Every 5 minutes: seats held for payment past their due time are released and offered to the next in line.
// Safe to run late or twice: each hold is released once, under its course's lock, and a paid one not at all.
app.timer("seat-holds-release", {
  schedule: "%SEAT_HOLDS_SCHEDULE%",
  handler: async (timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "seat-holds-release" } });
    const result = await releaseExpiredHolds({
      db: p.database.db,
      now: p.clock,
      newId: p.newId,
      actor: { ...systemActor, requestId: context.invocationId },
      paymentHoldHours: p.settings.PAYMENT_HOLD_HOURS,
    });
    log.info("seat holds released", { ...result, isPastDue: timer.isPastDue });
  },
});
