import { app, type InvocationContext, type Timer } from "@azure/functions";
import { expireOffers } from "../../domain/enrollment/leave.js";
import { systemActor } from "../../domain/shared/context.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";

// Every 5 minutes: unanswered seat offers expire and the seats are offered to the next in line.
// Safe to run late or twice: each expired offer is handled once, under its course's lock.
app.timer("waitlist-offers-expire", {
  schedule: "%WAITLIST_OFFERS_SCHEDULE%",
  handler: async (timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "waitlist-offers-expire" } });
    const result = await expireOffers({ db: p.database.db, now: p.clock, newId: p.newId, actor: { ...systemActor, requestId: context.invocationId }, paymentHoldHours: p.settings.PAYMENT_HOLD_HOURS });
    log.info("waitlist offers expired", { ...result, isPastDue: timer.isPastDue });
  },
});
