import { app, type InvocationContext, type Timer } from "@azure/functions";
import { publishDueAnnouncements } from "../../domain/announcements/publish-announcement.js";
import { onDomainPool } from "../platform/domain-transaction.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";

// Every minute: scheduled announcements whose time has come are published (their event recorded with them), so
// the fan-out reaches their audience. Safe to run late or twice at once: each is published exactly once.
app.timer("announcements-publish", {
  schedule: "%ANNOUNCEMENTS_SCHEDULE%",
  handler: async (timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "announcements-publish" } });
    const result = await onDomainPool(p, { requestId: context.invocationId }, (ctx) => publishDueAnnouncements(ctx), log);
    log.info("announcements published", { ...result, isPastDue: timer.isPastDue });
  },
});
