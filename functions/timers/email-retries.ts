import { app, type InvocationContext, type Timer } from "@azure/functions";
import { sendRecordedEmails } from "../platform/email-dispatch.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";

// Every minute: recorded emails that are due are sent: those a crash left between commit and send, those whose
// sender's lease ran out, and failures whose backoff is over (claimed first, so never sent twice at once).
app.timer("email-retries", {
  schedule: "%EMAIL_RETRY_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "email-retries" } });
    const attempted = await sendRecordedEmails(p, log, { maxRounds: 20 });
    if (attempted > 0) log.info("due emails attempted", { attempted });
  },
});
