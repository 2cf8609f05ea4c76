import { app, type InvocationContext, type Timer } from "@azure/functions";
import { sendDiscussionDigestBatch } from "../../domain/discussions/discussion-digest.js";
import { inDomainTransaction } from "../platform/domain-transaction.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";
import { unsubscribeLinks } from "../platform/unsubscribe-links.js";

/** Batches one firing runs; what is left waits for the next firing. */
const MAX_BATCHES = 50;

// Daily by default: each user who chose the discussion digest gets one email listing the discussion
// notifications held for it since the last one. Each batch is one transaction (held rows cleared with the email).
app.timer("discussion-digest", {
  schedule: "%DISCUSSION_DIGEST_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "discussion-digest" } });
    const unsubscribe = await unsubscribeLinks(p.settings);
    const links = { unsubscribeUrl: (userId: string, category: Parameters<typeof unsubscribe.url>[1]) => unsubscribe.url(userId, category) };
    const total = { users: 0, items: 0, emails: 0, batches: 0 };
    for (let i = 0; i < MAX_BATCHES; i++) {
      const batch = await inDomainTransaction(p, { requestId: context.invocationId }, (ctx) => sendDiscussionDigestBatch(ctx, p.settings.PUBLIC_APP_URL, links), log);
      if (batch.users === 0) break;
      total.users += batch.users;
      total.items += batch.items;
      total.emails += batch.emails;
      total.batches++;
    }
    log.info("discussion digests", total);
  },
});
