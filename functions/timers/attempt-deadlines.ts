import { app, type InvocationContext, type Timer } from "@azure/functions";
import { submitOverdueAttempts } from "../../domain/assessment/attempts.js";
import { systemActor } from "../../domain/shared/context.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";

// Every minute: submits timed attempts whose server-fixed deadline passed (the safety net behind the
// per-attempt durable timer). Safe to run twice: an attempt is submitted once.
app.timer("attempt-deadlines", {
  schedule: "%ATTEMPT_DEADLINES_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "attempt-deadlines" } });
    let relayed = false;
    const submitted = await submitOverdueAttempts(
      { db: p.database.db, now: p.clock, newId: p.newId, actor: { ...systemActor, requestId: context.invocationId }, onEventRecorded: () => (relayed = true) },
      500,
    );
    if (relayed) await p.relay.publishPending({ log });
    if (submitted > 0) log.info("overdue attempts submitted", { submitted });
  },
});
