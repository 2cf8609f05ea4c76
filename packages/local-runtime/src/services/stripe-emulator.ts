// A development Stripe: the API the app calls (stripe-api.ts), the hosted Checkout page (stripe-checkout-page.ts),
// and signed webhook deliveries to the app (stripe-webhooks.ts), over plain HTTP on loopback, state in memory.
// The runtime starts it for settings that are exactly `UseDevelopmentStripe=true` (replaced with its base URL) or
// `UseDevelopmentStripeWebhook=<path>` (replaced with its whsec_ signing secret; events go to <runtime><path>).
import { randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { httpOrigin, listenOnLoopback, runtimeSlot, serverStopper, settingsWithValue } from "./loopback-http.js";
import { StripeApi } from "./stripe-api.js";
import { renderCheckoutPage } from "./stripe-checkout-page.js";
import { StripeAccount, type CheckoutSession, type Outcome, type PayOptions, type Payout } from "./stripe-state.js";
import { WebhookDispatcher, type StoredEvent } from "./stripe-webhooks.js";

export interface StripeEmulatorOptions {
  /** 0 (default) = a free port. */
  port?: number;
  host?: string;
  /** A random whsec_ secret by default. */
  webhookSecret?: string;
  /** Where events are delivered (read at each delivery). */
  webhookUrls?: () => string[];
  /** Waits before the retries of a failed delivery (default 0.5 s, 1 s, 2 s). */
  retryDelaysMs?: number[];
}

export interface StripeEmulator {
  /** `http://<host>:<port>`, what the app's STRIPE_API_URL becomes. */
  apiUrl: string;
  port: number;
  webhookSecret: string;
  /** A customer paying the session on the hosted page. */
  pay(sessionId: string, options?: PayOptions): Outcome<CheckoutSession>;
  /** Pays out the available balance (in `currency`, needed only when it holds several). */
  payout(currency?: string): Outcome<Payout>;
  /** Newest first, with their deliveries. */
  events(): StoredEvent[];
  /** Checkout Sessions, newest first. */
  sessions(): CheckoutSession[];
  resend(eventId: string, timestamp?: number): ReturnType<WebhookDispatcher["resend"]>;
  stop(): Promise<void>;
}

const expirySweepMs = 1000;

export async function startStripeEmulator(options: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const host = options.host ?? "127.0.0.1";
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(24).toString("hex")}`;
  const dispatcher = new WebhookDispatcher({ secret: webhookSecret, endpoints: options.webhookUrls ?? (() => []), ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}) });
  let origin = "";
  const account = new StripeAccount(dispatcher, (id) => `${origin}/checkout/${id}`);
  const api = new StripeApi(account, dispatcher);

  const pay = (sessionId: string, payOptions: PayOptions = {}): Outcome<CheckoutSession> => {
    dispatcher.deliver(account.expireDue());
    const outcome = account.paySession(sessionId);
    if ("ok" in outcome) dispatcher.deliver(outcome.events, payOptions);
    return outcome;
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ error: { type: "api_error", message: "The Stripe emulator failed." } }));
      } else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? "/", "http://local");
    if (pathname.startsWith("/v1/")) return api.handle(req, res);
    const page = /^\/checkout\/(cs_test_[A-Za-z0-9]+)(\/pay)?\/?$/.exec(pathname);
    const session = page ? account.sessions.get(page[1] as string) : undefined;
    if (!page || !session) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader("cache-control", "no-store");
    res.setHeader("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'");
    if (page[2] && req.method === "POST") {
      // Drain the form body; the session id in the path is all that matters.
      for await (const chunk of req as AsyncIterable<Buffer>) void chunk;
      const outcome = pay(session.id);
      const next = "ok" in outcome ? outcome.ok.success_url : null;
      if (next) {
        res.statusCode = 303;
        res.setHeader("location", next.replace("{CHECKOUT_SESSION_ID}", session.id));
        res.end();
        return;
      }
      return sendPage(res, session, "fail" in outcome ? outcome.fail.error.message : "Paid.");
    }
    if (!page[2] && (req.method === "GET" || req.method === "HEAD")) {
      dispatcher.deliver(account.expireDue());
      return sendPage(res, session);
    }
    res.statusCode = 405;
    res.end();
  }

  function sendPage(res: ServerResponse, session: CheckoutSession, message?: string): void {
    res.statusCode = 200;
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(renderCheckoutPage(session, account.sessionItemNames.get(session.id) ?? [], message));
  }

  const port = await listenOnLoopback(server, options.port ?? 0, host);
  origin = httpOrigin(host, port);
  // Sessions expire at their expires_at (with checkout.session.expired) even when nobody asks about them.
  const sweep = setInterval(() => dispatcher.deliver(account.expireDue()), expirySweepMs);
  sweep.unref();
  const stopServer = serverStopper(server);
  return {
    apiUrl: origin,
    port,
    webhookSecret,
    pay,
    payout: (currency) => {
      const outcome = account.payout(currency);
      if ("ok" in outcome) dispatcher.deliver(outcome.events);
      return outcome;
    },
    events: () => dispatcher.events(),
    sessions: () => [...account.sessions.values()].reverse(),
    resend: (eventId, timestamp) => dispatcher.resend(eventId, timestamp),
    stop: async () => {
      clearInterval(sweep);
      dispatcher.stop();
      await stopServer();
    },
  };
}

// --- The runtime's emulator: started by backing-services.ts, driven by stripe-admin.ts under /admin/stripe ---
const active = runtimeSlot<StripeEmulator>();
export const activeStripeEmulator = active.get;
export const setActiveStripeEmulator = active.set;

/** The setting value that asks for the emulator's API URL. */
export const developmentStripeValue = "UseDevelopmentStripe=true";
const webhookValuePrefix = "UseDevelopmentStripeWebhook=";

/** Names of the settings whose value is exactly `UseDevelopmentStripe=true` (surrounding blanks ignored). */
export const developmentStripeSettings = (env: NodeJS.ProcessEnv): string[] => settingsWithValue(env, developmentStripeValue);

/** The settings whose value is `UseDevelopmentStripeWebhook=<path>`, with their paths (which start with a slash). */
export function developmentStripeWebhookSettings(env: NodeJS.ProcessEnv): { name: string; path: string }[] {
  return Object.keys(env).flatMap((name) => {
    const value = env[name]?.trim() ?? "";
    if (!value.startsWith(webhookValuePrefix)) return [];
    const path = value.slice(webhookValuePrefix.length).trim();
    if (!path.startsWith("/") || /\s/.test(path)) throw new Error(`${name}: UseDevelopmentStripeWebhook= needs the app's webhook path, e.g. UseDevelopmentStripeWebhook=/api/v1/payments/stripe/webhook`);
    return [{ name, path }];
  });
}
