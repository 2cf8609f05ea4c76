import { app, type InvocationContext, type Timer } from "@azure/functions";
import { sendDiscussionDigestBatch } from "../../domain/discussions/discussion-digest.js";
import { inDomainTransaction } from "../platform/domain-transaction.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";
import { emailUnsubscribeLinks } from "../platform/unsubscribe-links.js";

/** Time a firing spends on batches (under the 10-minute function timeout); what is left waits for the next. */
const BUDGET_MS = 8 * 60_000;

// Daily by default: each user who chose the discussion digest gets one email listing the discussion
// notifications held for it since the last one. Each batch is one transaction (held rows cleared with the email);
// batches run until nothing is held (a concurrent run's batches take other users) or the time budget is spent.
app.timer("discussion-digest", {
  schedule: "%DISCUSSION_DIGEST_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "discussion-digest" } });
    const links = await emailUnsubscribeLinks(p.settings);
    const total = { users: 0, items: 0, emails: 0, batches: 0 };
    const deadline = Date.now() + BUDGET_MS;
    let complete = false;
    while (Date.now() < deadline) {
      const batch = await inDomainTransaction(p, { requestId: context.invocationId }, (ctx) => sendDiscussionDigestBatch(ctx, p.settings.PUBLIC_APP_URL, links), log);
      if (batch.users === 0) {
        complete = true;
        break;
      }
      total.users += batch.users;
      total.items += batch.items;
      total.emails += batch.emails;
      total.batches++;
    }
    if (complete) log.info("discussion digests", total);
    else log.warn("discussion digests stopped at the time budget; the next firing sends the rest", total);
  },
});
