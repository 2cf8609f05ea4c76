import { planDeliveries } from "../../domain/webhooks/webhooks.js";
import { subscriptionHandler } from "../platform/subscription.js";
import { attemptDeliveries, deliveryLeaseSeconds } from "../platform/webhook-dispatch.js";

// The `webhooks` subscription takes every event: plan one delivery per matching endpoint in the inbox
// transaction, then send them once that commits (a failure is retried by the webhook-retries timer).
subscriptionHandler({
  name: "deliver-webhooks-on-event",
  subscription: "webhooks",
  handle: async (event, ctx) => {
    const planned = await planDeliveries(ctx.domain, event, deliveryLeaseSeconds(ctx.platform));
    if (planned.length > 0) ctx.afterCommit(() => attemptDeliveries(ctx.platform, planned, ctx.log));
  },
});
