import { planDeliveriesFor } from "../../domain/webhooks/webhooks.js";
import { subscriptionHandler } from "../platform/subscription.js";
import { attemptPlanned, deliveryLeaseSeconds } from "../platform/webhook-dispatch.js";

// The `webhooks` subscription takes every event: plan one delivery per matching endpoint for the whole batch in
// the inbox transaction, then send them once that commits (a failure is retried by the webhook-retries timer).
subscriptionHandler({
  name: "deliver-webhooks-on-event",
  subscription: "webhooks",
  handleMany: async (events, ctx) => {
    const planned = await planDeliveriesFor(ctx.domain(events[0] as (typeof events)[number]), events, deliveryLeaseSeconds(ctx.platform));
    for (const delivery of planned) ctx.afterCommit(() => attemptPlanned(ctx.platform, delivery, ctx.log));
  },
});
