// The emulated Stripe REST API (the calls the app makes), as the official `stripe` package speaks it: form-encoded
// parameters, `Authorization: Bearer sk_test_...`, JSON answers in Stripe's object, list and error shapes.
//   POST /v1/checkout/sessions, GET /v1/checkout/sessions/:id, POST /v1/checkout/sessions/:id/expire
//   GET /v1/payment_intents/:id, GET /v1/charges/:id, POST /v1/refunds, GET /v1/refunds (payment_intent, charge),
//   GET /v1/refunds/:id
//   GET /v1/payouts, GET /v1/balance_transactions (Stripe's list params: limit, starting_after, created[...])
import type { IncomingMessage, ServerResponse } from "node:http";
import { formList, parseForm, type FormObject, type FormValue } from "./stripe-form.js";
import { expandAnswer } from "./stripe-expand.js";
import { IdempotencyStore, requestFingerprint } from "./stripe-idempotency.js";
import { readLimited } from "./loopback-http.js";
import { safeDecode } from "../route-template.js";
import { invalid, missing, type LineItem, type NewSession, type Outcome, type StripeAccount, type StripeFailure } from "./stripe-state.js";
import { stripeId } from "./stripe-ids.js";
import { stripeApiVersion, type WebhookDispatcher } from "./stripe-webhooks.js";

const maxBodyBytes = 256 * 1024;
const refundReasons = new Set(["duplicate", "fraudulent", "requested_by_customer"]);

type Answer = { status: number; body: unknown; events?: ReturnType<WebhookDispatcher["events"]> };

export class StripeApi {
  readonly #idempotency = new IdempotencyStore();

  constructor(
    private readonly account: StripeAccount,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://local");
    const method = (req.method ?? "GET").toUpperCase();
    res.setHeader("request-id", stripeId("req", 14));
    res.setHeader("stripe-version", req.headers["stripe-version"]?.toString() ?? stripeApiVersion);
    const key = apiKeyOf(req.headers.authorization ?? "");
    if (!key) return send(res, 401, errorBody(invalid("You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")));
    if (!/^sk_test_\S+$/.test(key)) return send(res, 401, errorBody(invalid(`Invalid API Key provided: ${key.slice(0, 8)}${"*".repeat(Math.max(0, Math.min(key.length - 12, 20)))}${key.slice(-4)}`)));

    const body = await readLimited(req, maxBodyBytes);
    if (!body) return send(res, 413, errorBody(invalid(`The request body is over ${maxBodyBytes} bytes.`)));
    const text = method === "GET" || method === "DELETE" ? url.search.slice(1) : body.toString("utf8");
    if (text.includes("\u0000") || text.includes("%00")) return send(res, 400, errorBody(invalid("Parameters may not contain NUL characters.")));
    const params = parseForm(text);
    if (typeof params === "string") return send(res, 400, errorBody(invalid(params)));

    const idempotencyKey = method === "POST" ? (req.headers["idempotency-key"]?.toString() ?? null) : null;
    const fingerprint = requestFingerprint(method, url.pathname, params);
    if (idempotencyKey) {
      if (idempotencyKey.length > 255) return send(res, 400, errorBody(invalid("Idempotency keys may be at most 255 characters long.")));
      const earlier = this.#idempotency.lookup(idempotencyKey, fingerprint);
      if (earlier === "conflict") {
        return send(res, 400, {
          error: {
            type: "idempotency_error",
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          },
        });
      }
      if (earlier) {
        res.setHeader("idempotent-replayed", "true");
        res.setHeader("idempotency-key", idempotencyKey);
        return send(res, earlier.status, earlier.body);
      }
    }

    // Sessions past their expiry expire before anything reads them.
    this.dispatcher.deliver(this.account.expireDue());
    const expand = formList(params.expand) ?? [];
    if (expand.some((p) => typeof p !== "string")) return send(res, 400, errorBody(invalid("Invalid array", "expand")));
    const routed = this.#route(method, url.pathname, params, idempotencyKey);
    const expanded = routed.status === 200 ? expandAnswer(this.account, routed.body, expand as string[]) : { body: routed.body };
    const answer =
      "bad" in expanded
        ? { ...routed, ...failure(invalid(`This property cannot be expanded (${expanded.bad}).`, "expand")) }
        : { ...routed, body: expanded.body };
    if (idempotencyKey) {
      res.setHeader("idempotency-key", idempotencyKey);
      // Refused parameters keep nothing (the request never ran); a run's outcome, success or error, is kept.
      if (answer.ran) this.#idempotency.remember(idempotencyKey, fingerprint, { status: answer.status, body: answer.body });
    }
    send(res, answer.status, answer.body);
    // Events go out after the answer, as on Stripe.
    if (answer.events) this.dispatcher.deliver(answer.events);
  }

  #route(method: string, path: string, params: FormObject, idempotencyKey: string | null): Answer & { ran: boolean } {
    // The id after a collection's path becomes ":id" (any id: an unknown one is a resource_missing, as on Stripe).
    const withId = /^(\/v1\/checkout\/sessions|\/v1\/payment_intents|\/v1\/charges|\/v1\/refunds)\/([^/]+)(\/expire)?\/?$/.exec(path);
    const id = withId ? safeDecode(withId[2] as string) : "";
    const route = `${method} ${withId ? `${withId[1] as string}/:id${withId[3] ?? ""}` : path.replace(/\/$/, "")}`;
    switch (route) {
      case "POST /v1/checkout/sessions": {
        const input = sessionInput(params);
        if ("status" in input) return { ...failure(input), ran: false };
        return ran(this.account.createSession(input));
      }
      case "GET /v1/checkout/sessions/:id": {
        const session = this.account.sessions.get(id);
        return { ...(session ? { status: 200, body: session } : failure(missing("checkout.session", id))), ran: true };
      }
      case "POST /v1/checkout/sessions/:id/expire":
        return ran(this.account.expireSession(id));
      case "GET /v1/payment_intents/:id": {
        const pi = this.account.paymentIntents.get(id);
        return { ...(pi ? { status: 200, body: pi } : failure(missing("payment_intent", id, "intent"))), ran: true };
      }
      case "GET /v1/charges/:id": {
        const charge = this.account.charges.get(id);
        return { ...(charge ? { status: 200, body: charge } : failure(missing("charge", id))), ran: true };
      }
      case "GET /v1/refunds/:id": {
        const refund = this.account.refunds.get(id);
        return { ...(refund ? { status: 200, body: refund } : failure(missing("refund", id))), ran: true };
      }
      case "POST /v1/refunds": {
        const input = refundInput(params);
        if ("status" in input) return { ...failure(input), ran: false };
        return ran(this.account.refund(input, idempotencyKey));
      }
      case "GET /v1/refunds": {
        const pi = str(params.payment_intent);
        const charge = str(params.charge);
        if (pi && !this.account.paymentIntents.has(pi)) return { ...failure(missing("payment_intent", pi, "payment_intent")), ran: true };
        if (charge && !this.account.charges.has(charge)) return { ...failure(missing("charge", charge, "charge")), ran: true };
        const rows = [...this.account.refunds.values()].filter((r) => (!pi || r.payment_intent === pi) && (!charge || r.charge === charge));
        return { ...list(rows, params, "/v1/refunds"), ran: true };
      }
      case "GET /v1/payouts":
        return { ...list(this.account.payouts, params, "/v1/payouts"), ran: true };
      case "GET /v1/balance_transactions": {
        const payout = str(params.payout);
        const type = str(params.type);
        if (payout && !this.account.payouts.some((p) => p.id === payout)) return { ...failure(missing("payout", payout, "payout")), ran: true };
        const rows = this.account.balanceTransactions.filter((t) => (!payout || t.payout === payout) && (!type || t.type === type));
        return { ...list(rows, params, "/v1/balance_transactions"), ran: true };
      }
      default:
        return { ...failure(invalid(`Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`, undefined, undefined, 404)), ran: false };
    }
  }
}


/** The SDK sends `Bearer <key>`; Stripe also takes Basic auth with the key as the user name (`curl -u sk_test_...:`). */
function apiKeyOf(authorization: string): string | undefined {
  const bearer = /^Bearer (\S+)$/i.exec(authorization)?.[1];
  if (bearer) return bearer;
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization)?.[1];
  return basic ? Buffer.from(basic, "base64").toString("utf8").split(":")[0] || undefined : undefined;
}

function ran<T>(outcome: Outcome<T>): Answer & { ran: boolean } {
  if ("fail" in outcome) return { ...failure(outcome.fail), ran: true };
  return { status: 200, body: outcome.ok, events: outcome.events, ran: true };
}

const failure = (f: StripeFailure): Answer => ({ status: f.status, body: errorBody(f) });

export const errorBody = (f: StripeFailure): unknown => ({ error: f.error });

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body, null, 2));
}

const str = (value: FormValue | undefined): string | undefined => (typeof value === "string" ? value : undefined);

function integer(value: FormValue | undefined, param: string, min: number): number | StripeFailure | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^-?\d{1,15}$/.test(value)) return invalid(`Invalid integer: ${typeof value === "string" ? value : "[object]"}`, param);
  const n = Number(value);
  if (n < min) return invalid(`This value must be greater than or equal to ${min}.`, param);
  return n;
}

const isFailure = (value: unknown): value is StripeFailure => typeof value === "object" && value !== null && "error" in value;

/** Stripe's metadata rules: up to 50 keys, keys up to 40 characters, values strings up to 500. */
function metadata(value: FormValue | undefined, param: string): Record<string, string> | StripeFailure {
  if (value === undefined || value === "") return {};
  if (typeof value === "string") return invalid("Invalid object", param);
  const out: Record<string, string> = {};
  const entries = Object.entries(value);
  if (entries.length > 50) return invalid("You can specify up to 50 keys.", param);
  for (const [k, v] of entries) {
    if (typeof v !== "string") return invalid(`Invalid value for ${param}[${k}]: must be a string.`, `${param}[${k}]`);
    if (k.length > 40) return invalid(`Metadata key is too long (maximum 40 characters): ${k.slice(0, 40)}...`, `${param}[${k}]`);
    if (v.length > 500) return invalid("Metadata values can have up to 500 characters.", `${param}[${k}]`);
    if (v !== "") out[k] = v;
  }
  return out;
}

function sessionInput(params: FormObject): NewSession | StripeFailure {
  const mode = str(params.mode);
  if (!mode) return invalid("Missing required param: mode.", "mode", "parameter_missing");
  if (mode !== "payment") return invalid(`The emulator supports mode "payment" only, not "${mode}".`, "mode", "parameter_invalid_string");
  const items = formList(params.line_items);
  if (!items || items.length === 0) return invalid("Missing required param: line_items.", "line_items", "parameter_missing");
  if (items.length > 100) return invalid("You may only specify up to 100 line items.", "line_items");
  const lineItems: LineItem[] = [];
  for (const [i, item] of items.entries()) {
    const p = `line_items[${i}]`;
    if (typeof item === "string") return invalid(`Invalid object`, p);
    if (item.price !== undefined) return invalid("The emulator supports price_data only, not saved prices.", `${p}[price]`);
    const data = item.price_data;
    if (typeof data !== "object") return invalid(`Missing required param: ${p}[price_data].`, `${p}[price_data]`, "parameter_missing");
    const currency = str(data.currency)?.toLowerCase();
    if (!currency || !/^[a-z]{3}$/.test(currency)) return invalid(`Invalid currency: ${str(data.currency) ?? ""}.`, `${p}[price_data][currency]`);
    const unitAmount = integer(data.unit_amount, `${p}[price_data][unit_amount]`, 0);
    if (isFailure(unitAmount)) return unitAmount;
    if (unitAmount === undefined) return invalid(`Missing required param: ${p}[price_data][unit_amount].`, `${p}[price_data][unit_amount]`, "parameter_missing");
    const product = data.product_data;
    const name = typeof product === "object" ? str(product.name) : undefined;
    if (!name) return invalid(`Missing required param: ${p}[price_data][product_data][name].`, `${p}[price_data][product_data][name]`, "parameter_missing");
    const quantity = integer(item.quantity, `${p}[quantity]`, 1);
    if (isFailure(quantity)) return quantity;
    if (quantity === undefined) return invalid(`Missing required param: ${p}[quantity].`, `${p}[quantity]`, "parameter_missing");
    if (lineItems[0] && lineItems[0].currency !== currency) return invalid("All line items must have the same currency.", `${p}[price_data][currency]`);
    lineItems.push({ currency, unitAmount, name, quantity });
  }
  const meta = metadata(params.metadata, "metadata");
  if (isFailure(meta)) return meta;
  const piData = params.payment_intent_data;
  const piMeta = metadata(typeof piData === "object" ? piData.metadata : undefined, "payment_intent_data[metadata]");
  if (isFailure(piMeta)) return piMeta;
  const expiresAt = integer(params.expires_at, "expires_at", 0);
  if (isFailure(expiresAt)) return expiresAt;
  const clientReferenceId = str(params.client_reference_id) ?? null;
  if (clientReferenceId !== null && clientReferenceId.length > 200) return invalid("client_reference_id must be at most 200 characters.", "client_reference_id");
  // Stripe takes http(s) URLs only: the page links to them and paying redirects there (no javascript: or data:).
  for (const param of ["success_url", "cancel_url"] as const) {
    const value = str(params[param]);
    if (value !== undefined && (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol))) return invalid("Not a valid URL", param, "url_invalid");
  }
  const customerEmail = str(params.customer_email) ?? null;
  if (customerEmail !== null && !/^[^\s@]+@[^\s@]+$/.test(customerEmail)) return invalid(`Invalid email address: ${customerEmail}`, "customer_email", "email_invalid");
  return {
    lineItems,
    successUrl: str(params.success_url) ?? null,
    cancelUrl: str(params.cancel_url) ?? null,
    customerEmail,
    clientReferenceId,
    metadata: meta,
    paymentIntentMetadata: piMeta,
    expiresAt: expiresAt ?? null,
  };
}

function refundInput(params: FormObject): Parameters<StripeAccount["refund"]>[0] | StripeFailure {
  const amount = integer(params.amount, "amount", 1);
  if (isFailure(amount)) return amount;
  const reason = str(params.reason) ?? null;
  if (reason !== null && !refundReasons.has(reason)) return invalid(`Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer`, "reason");
  const meta = metadata(params.metadata, "metadata");
  if (isFailure(meta)) return meta;
  return { paymentIntent: str(params.payment_intent) ?? null, charge: str(params.charge) ?? null, amount: amount ?? null, reason, metadata: meta };
}

/** Stripe's list: newest first, `created[gt|gte|lt|lte]` (or `created=<t>`), `limit` (1-100, 10), `starting_after`, `ending_before`. */
function list<T extends { id: string; created: number }>(rows: T[], params: FormObject, url: string): Answer {
  const limit = integer(params.limit, "limit", 1);
  if (isFailure(limit)) return failure(limit);
  if (limit !== undefined && limit > 100) return failure(invalid("This value must be less than or equal to 100.", "limit"));
  const created = params.created;
  const bounds: Partial<Record<"gt" | "gte" | "lt" | "lte", number>> = {};
  if (typeof created === "string") {
    const t = integer(created, "created", 0);
    if (isFailure(t)) return failure(t);
    if (t !== undefined) bounds.gte = bounds.lte = t;
  } else if (created) {
    for (const [op, value] of Object.entries(created)) {
      if (op !== "gt" && op !== "gte" && op !== "lt" && op !== "lte") return failure(invalid(`Received unknown parameter: created[${op}]`, `created[${op}]`));
      const t = integer(value, `created[${op}]`, 0);
      if (isFailure(t)) return failure(t);
      if (t !== undefined) bounds[op] = t;
    }
  }
  const inBounds = (r: T): boolean =>
    (bounds.gt === undefined || r.created > bounds.gt) &&
    (bounds.gte === undefined || r.created >= bounds.gte) &&
    (bounds.lt === undefined || r.created < bounds.lt) &&
    (bounds.lte === undefined || r.created <= bounds.lte);
  const after = str(params.starting_after);
  const before = str(params.ending_before);
  if (after && before) return failure(invalid("You may only specify one of these parameters: ending_before, starting_after."));
  // Cursors are positions in the whole list (newest first), so a cursor outside the created bounds still works.
  const newest = [...rows].reverse();
  const cursor = after ?? before;
  const at = cursor ? newest.findIndex((r) => r.id === cursor) : -1;
  if (cursor && at < 0) return failure(missing(url.includes("payouts") ? "payout" : "balance_transaction", cursor, after ? "starting_after" : "ending_before"));
  const n = limit ?? 10;
  if (before) {
    const earlier = newest.slice(0, at).filter(inBounds);
    return { status: 200, body: { object: "list", data: earlier.slice(Math.max(0, earlier.length - n)), has_more: earlier.length > n, url } };
  }
  const later = newest.slice(after ? at + 1 : 0).filter(inBounds);
  return { status: 200, body: { object: "list", data: later.slice(0, n), has_more: later.length > n, url } };
}
