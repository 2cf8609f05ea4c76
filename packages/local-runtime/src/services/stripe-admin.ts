// The Stripe emulator's admin routes on the runtime (beside /admin/mailbox), for tests and people:
//   POST /admin/stripe/checkout/<sessionId>/pay   body optional { "deliver": "normal"|"none", "duplicates": n,
//                                                 "order": "as-made"|"reversed", "parallel": bool } → 200 the session
//   GET  /admin/stripe/events                     → the events, newest first, each with its deliveries
//   POST /admin/stripe/events/<eventId>/resend    body optional { "timestamp": <unix s> } → { status, body } of the app
//   POST /admin/stripe/payouts                    body optional { "currency": "eur" } → 200 the payout (payout.paid);
//                                                 without a currency one payout per currency, the first answered
// All answer 404 when no setting asked for the emulator; refusals carry Stripe's error shape.
import type { IncomingMessage, ServerResponse } from "node:http";
import { answerJson as done, jsonObjectBody } from "./loopback-http.js";
import { safeDecode } from "../route-template.js";
import type { StripeEmulator } from "./stripe-emulator.js";
import type { PayOptions } from "./stripe-state.js";

const maxDuplicates = 10;

/** Handles the /admin/stripe routes; false when the path is none of them. */
export async function handleStripeAdminRequest(stripe: StripeEmulator | undefined, pathname: string, method: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const pay = /^\/admin\/stripe\/checkout\/([^/]+)\/pay\/?$/i.exec(pathname);
  const events = /^\/admin\/stripe\/events\/?$/i.test(pathname);
  const resend = /^\/admin\/stripe\/events\/([^/]+)\/resend\/?$/i.exec(pathname);
  const payouts = /^\/admin\/stripe\/payouts\/?$/i.test(pathname);
  if (!pay && !events && !resend && !payouts) return false;
  res.setHeader("cache-control", "no-store");
  if (!stripe) return done(res, 404, { error: { type: "invalid_request_error", message: "The Stripe emulator is not running: no setting is UseDevelopmentStripe=true." } });
  if (events) {
    if (method !== "GET") return done(res, 405, undefined);
    return done(res, 200, stripe.events());
  }
  if (method !== "POST") return done(res, 405, undefined);
  const body = await jsonObjectBody(req, 16 * 1024);
  if (typeof body === "string") return done(res, 400, refusal(body));

  if (pay) {
    const options: PayOptions = {};
    const { deliver, duplicates, order, parallel } = body;
    if (parallel !== undefined && typeof parallel !== "boolean") return done(res, 400, refusal("parallel must be a boolean."));
    if (deliver !== undefined && deliver !== "normal" && deliver !== "none") return done(res, 400, refusal('deliver must be "normal" or "none".'));
    if (duplicates !== undefined && (!Number.isInteger(duplicates) || (duplicates as number) < 0 || (duplicates as number) > maxDuplicates)) {
      return done(res, 400, refusal(`duplicates must be an integer from 0 to ${maxDuplicates}.`));
    }
    if (order !== undefined && order !== "as-made" && order !== "reversed") return done(res, 400, refusal('order must be "as-made" or "reversed".'));
    if (deliver !== undefined) options.deliver = deliver;
    if (duplicates !== undefined) options.duplicates = duplicates as number;
    if (order !== undefined) options.order = order;
    if (parallel !== undefined) options.parallel = parallel;
    const outcome = stripe.pay(safeDecode(pay[1] as string), options);
    if ("fail" in outcome) return done(res, outcome.fail.status === 404 ? 404 : 409, { error: outcome.fail.error });
    return done(res, 200, outcome.ok);
  }
  if (resend) {
    const { timestamp } = body;
    if (timestamp !== undefined && (!Number.isInteger(timestamp) || (timestamp as number) < 0)) return done(res, 400, refusal("timestamp must be unix seconds (an integer)."));
    const results = await stripe.resend(safeDecode(resend[1] as string), timestamp as number | undefined);
    if (!results) return done(res, 404, refusal(`No such event: '${resend[1] as string}'`));
    const first = results[0];
    if (!first) return done(res, 409, refusal("No webhook endpoint: no setting is UseDevelopmentStripeWebhook=<path>."));
    return done(res, 200, { status: first.status, body: first.body, error: first.error, deliveries: results });
  }
  const { currency } = body;
  if (currency !== undefined && (typeof currency !== "string" || !/^[a-zA-Z]{3}$/.test(currency))) return done(res, 400, refusal("currency must be a three-letter ISO code."));
  const outcome = stripe.payout(typeof currency === "string" ? currency.toLowerCase() : undefined);
  if ("fail" in outcome) return done(res, 409, { error: outcome.fail.error });
  return done(res, 200, outcome.ok);
}

const refusal = (message: string): unknown => ({ error: { type: "invalid_request_error", message } });
