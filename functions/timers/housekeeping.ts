import { app, type InvocationContext, type Timer } from "@azure/functions";
import { housekeeping } from "../../domain/maintenance/housekeeping.js";
import { eraseWhenDue, overdueErasures } from "../../domain/privacy/erasure-requests.js";
import { onDomainPool } from "../platform/domain-transaction.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";
import { erasureKeys } from "../platform/erasure-keys.js";

// Daily: purges expired refresh tokens and idempotency records, old inbox rows and published outbox rows, and
// deletes data-export archives and import files and rows past their retention (and what overlong exports wrote); carries out scheduled erasures whose durable timer was lost.
app.timer("housekeeping", {
  schedule: "%HOUSEKEEPING_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "housekeeping" } });
    const purged = await housekeeping(p.database.db, p.clock(), { eventDays: p.settings.EVENT_RETENTION_DAYS, tokenDays: p.settings.TOKEN_RETENTION_DAYS, importDays: p.settings.IMPORT_RETENTION_DAYS }, p.files);
    // Each in its own transaction; one that fails is logged and tried again next run.
    let erased = 0;
    for (const erasureId of await overdueErasures(p.database.db, p.clock())) {
      try {
        if ((await onDomainPool(p, {}, (ctx) => eraseWhenDue(ctx, p.files, erasureId, erasureKeys(p.settings)), log)).erased) erased++;
      } catch (err) {
        log.error("overdue erasure not carried out", { erasureId, err });
      }
    }
    log.info("housekeeping done", { purged, erased });
  },
});
