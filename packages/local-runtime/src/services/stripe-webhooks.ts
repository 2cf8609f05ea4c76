// The emulator's events and their delivery to the app's webhook endpoint(s), signed as Stripe signs them:
// header `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the whsec_ secret>`.
// The events one API call made (a payment's three, a refund's two) go out one at a time in the order asked for,
// after the call has answered; the events of different calls go out concurrently (up to `maxConcurrentDeliveries`
// calls' worth at once), as Stripe delivers to an endpoint concurrently: a whole school paying is not one queue.
// A non-2xx answer or a failed connection is retried on its own schedule (0.5 s, 1 s, 2 s by default) without
// holding up later events, as Stripe retries independently of other events.
import { createHmac } from "node:crypto";
import { stripeId } from "./stripe-ids.js";

export const stripeApiVersion = "2026-11-18.endive";

export interface StripeEvent {
  id: string;
  object: "event";
  api_version: string;
  created: number;
  data: { object: Record<string, unknown> & { id: string } };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface Delivery {
  url: string;
  /** 1 for the first try, 2-4 for the retries. */
  attempt: number;
  /** 0 for the event's delivery, 1..n for the extra copies asked for with `duplicates`. */
  copy: number;
  /** Made by POST /admin/stripe/events/<id>/resend. */
  resend: boolean;
  /** ISO 8601. */
  at: string;
  /** The app's HTTP status, or null when the request could not be made. */
  status: number | null;
  error: string | null;
}

export interface StoredEvent {
  id: string;
  type: string;
  created: number;
  event: StripeEvent;
  deliveries: Delivery[];
  /** Deliveries queued or awaiting a retry. */
  pendingDeliveries: number;
}

export interface DeliveryOptions {
  /** "none": record the events without sending them. */
  deliver?: "normal" | "none";
  /** Extra copies of each event (the same id), sent after the events themselves. */
  duplicates?: number;
  order?: "as-made" | "reversed";
  /** The copies of each event are sent at the same moment as the event itself (racing), not after all events. */
  parallel?: boolean;
}

export interface WebhookDispatcherOptions {
  secret: string;
  /** The URLs events go to (read at each delivery: the runtime's HTTP port is known late). */
  endpoints(): string[];
  retryDelaysMs?: number[];
  /** The newest this many events are kept (default 1,000). */
  maxEvents?: number;
  /** How many API calls' deliveries are under way at once (default 16); each call's own events stay in order. */
  maxConcurrentDeliveries?: number;
}

export function signStripePayload(payload: string, secret: string, timestamp: number): string {
  const signature = createHmac("sha256", secret).update(`${timestamp}.${payload}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${signature}`;
}

const deliveryTimeoutMs = 10_000;

export class WebhookDispatcher {
  readonly #events: StoredEvent[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Calls' deliveries waiting for a free slot, and how many are under way. */
  readonly #waiting: (() => Promise<void>)[] = [];
  #running = 0;
  #stopped = false;

  constructor(private readonly options: WebhookDispatcherOptions) {}

  /** Records an event about `object` (a snapshot of it, as it is now). */
  record(type: string, object: { id: string }, idempotencyKey: string | null = null): StoredEvent {
    const created = Math.floor(Date.now() / 1000);
    const event: StripeEvent = {
      id: stripeId("evt"),
      object: "event",
      api_version: stripeApiVersion,
      created,
      data: { object: structuredClone(object) as Record<string, unknown> & { id: string } },
      livemode: false,
      pending_webhooks: this.options.endpoints().length,
      request: { id: null, idempotency_key: idempotencyKey },
      type,
    };
    const stored: StoredEvent = { id: event.id, type, created, event, deliveries: [], pendingDeliveries: 0 };
    this.#events.push(stored);
    const max = this.options.maxEvents ?? 1000;
    if (this.#events.length > max) this.#events.splice(0, this.#events.length - max);
    return stored;
  }

  /** Queues the events' deliveries; returns at once. */
  deliver(events: StoredEvent[], options: DeliveryOptions = {}): void {
    if (options.deliver === "none" || this.#stopped) return;
    const ordered = options.order === "reversed" ? [...events].reverse() : events;
    const copies = Math.max(0, Math.floor(options.duplicates ?? 0));
    // Groups go out one after another; the sends of a group at once.
    type Send = { stored: StoredEvent; copy: number; url: string };
    const groups: Send[][] = [];
    const urls = this.options.endpoints();
    if (options.parallel) {
      for (const stored of ordered) for (const url of urls) groups.push(Array.from({ length: copies + 1 }, (_, copy) => ({ stored, copy, url })));
    } else {
      for (let copy = 0; copy <= copies; copy++) for (const stored of ordered) for (const url of urls) groups.push([{ stored, copy, url }]);
    }
    for (const group of groups) for (const send of group) send.stored.pendingDeliveries++;
    this.#waiting.push(async () => {
      for (const group of groups) await Promise.all(group.map((send) => this.#attempt(send.stored, send.url, send.copy, 1)));
    });
    this.#drain();
  }

  /** Starts waiting calls' deliveries while there is a free slot (first come, first served). */
  #drain(): void {
    const limit = Math.max(1, this.options.maxConcurrentDeliveries ?? 16);
    while (this.#running < limit && this.#waiting.length > 0) {
      const run = this.#waiting.shift()!;
      this.#running++;
      void run().finally(() => {
        this.#running--;
        this.#drain();
      });
    }
  }

  /** Sends the event once more, now, signed with `timestamp` (unix seconds; now by default); not retried. */
  async resend(eventId: string, timestamp?: number): Promise<{ url: string; status: number | null; body: string; error: string | null }[] | undefined> {
    const stored = this.#events.find((e) => e.id === eventId);
    if (!stored) return undefined;
    const results = [];
    for (const url of this.options.endpoints()) {
      const result = await this.#post(stored, url, timestamp ?? Math.floor(Date.now() / 1000));
      stored.deliveries.push({ url, attempt: 1, copy: 0, resend: true, at: new Date().toISOString(), status: result.status, error: result.error });
      results.push({ url, ...result });
    }
    return results;
  }

  /** Newest first. */
  events(): StoredEvent[] {
    return this.#events.slice().reverse();
  }

  get(eventId: string): StoredEvent | undefined {
    return this.#events.find((e) => e.id === eventId);
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  async #attempt(stored: StoredEvent, url: string, copy: number, attempt: number): Promise<void> {
    if (this.#stopped) return;
    const result = await this.#post(stored, url, Math.floor(Date.now() / 1000));
    stored.deliveries.push({ url, attempt, copy, resend: false, at: new Date().toISOString(), status: result.status, error: result.error });
    const delays = this.options.retryDelaysMs ?? [500, 1000, 2000];
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    const delay = delays[attempt - 1];
    if (ok || delay === undefined || this.#stopped) {
      stored.pendingDeliveries--;
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#attempt(stored, url, copy, attempt + 1);
    }, delay);
    timer.unref();
    this.#timers.add(timer);
  }

  async #post(stored: StoredEvent, url: string, timestamp: number): Promise<{ status: number | null; body: string; error: string | null }> {
    const payload = JSON.stringify(stored.event, null, 2);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          "stripe-signature": signStripePayload(payload, this.options.secret, timestamp),
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
        body: payload,
        signal: AbortSignal.timeout(deliveryTimeoutMs),
      });
      return { status: response.status, body: await response.text(), error: null };
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      return { status: null, body: "", error: `${error instanceof Error ? error.message : String(error)}${cause}` };
    }
  }
}
