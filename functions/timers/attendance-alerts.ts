import { app, type InvocationContext, type Timer } from "@azure/functions";
import { sendLowAttendanceAlerts } from "../../domain/attendance/low-attendance.js";
import { onDomainPool } from "../platform/domain-transaction.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";

// Daily by default: learners below their course's low-attendance threshold are alerted (with their instructors)
// once per ISO week; a run cut short by its budget is continued by the next (least recently checked courses first).
app.timer("attendance-alerts", {
  schedule: "%ATTENDANCE_ALERTS_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "attendance-alerts" } });
    const run = await onDomainPool(p, { requestId: context.invocationId }, (ctx) => sendLowAttendanceAlerts(ctx), log);
    if (run.complete) log.info("attendance alerts", { ...run });
    else log.warn("attendance alerts stopped at the time budget; the next firing continues with the courses not reached", { ...run });
  },
});
