import { app, type InvocationContext, type Timer } from "@azure/functions";
import { sendRecordedChannelMessages } from "../platform/channel-dispatch.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";

// Every minute: SMS and push messages that are due are sent: those held until the user's quiet hours ended, those a
// crash left between commit and send, and failures whose backoff is over (claimed first, so never sent twice at once).
app.timer("channel-retries", {
  schedule: "%CHANNEL_RETRY_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "channel-retries" } });
    // Claim after claim for up to 4 minutes (well under functionTimeout): when quiet hours end for a large course,
    // thousands of held pushes are due at once. Runs that overlap share the work (rows are claimed with a lease).
    const attempted = await sendRecordedChannelMessages(p, log, { timeBudgetMs: 4 * 60_000 });
    if (attempted > 0) log.info("due SMS and push messages attempted", { attempted });
  },
});
