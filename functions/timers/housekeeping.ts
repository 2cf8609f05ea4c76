import { app, type InvocationContext, type Timer } from "@azure/functions";
import { housekeeping } from "../../domain/maintenance/housekeeping.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";
import { archiveDeleter } from "../privacy/export-archive.js";

// Daily: purges expired refresh tokens and idempotency records, old inbox rows and published outbox rows, and
// deletes data-export archives past their retention.
app.timer("housekeeping", {
  schedule: "%HOUSEKEEPING_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "housekeeping" } });
    const purged = await housekeeping(p.database.db, p.clock(), { eventDays: p.settings.EVENT_RETENTION_DAYS, tokenDays: p.settings.TOKEN_RETENTION_DAYS }, archiveDeleter(p.files));
    log.info("housekeeping done", { purged });
  },
});
