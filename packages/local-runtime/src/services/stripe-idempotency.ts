// Stripe's idempotency keys: the first request with a key is executed and its answer kept; a later request with
// the same key and the same method, path and parameters gets that answer again (header `Idempotent-Replayed: true`);
// the same key with anything else is refused with a 400 `idempotency_error`. Requests refused before they ran
// (bad parameters, bad key) keep nothing, as on Stripe. Stripe keeps keys 24 hours; this keeps the newest `limit`.

export interface StoredAnswer {
  status: number;
  body: unknown;
}

interface Entry {
  fingerprint: string;
  answer: StoredAnswer;
}

export class IdempotencyStore {
  readonly #entries = new Map<string, Entry>();

  constructor(private readonly limit = 10_000) {}

  /** The earlier answer, "conflict" when the key was used for another request, or undefined when it is new. */
  lookup(key: string, fingerprint: string): StoredAnswer | "conflict" | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    return entry.fingerprint === fingerprint ? entry.answer : "conflict";
  }

  remember(key: string, fingerprint: string, answer: StoredAnswer): void {
    this.#entries.set(key, { fingerprint, answer });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.limit) break;
      this.#entries.delete(oldest);
    }
  }
}

/** What makes two requests "the same": method, path and the parameters, in a canonical (key-sorted) form. */
export function requestFingerprint(method: string, path: string, params: unknown): string {
  return JSON.stringify([method, path, canonical(params)]);
}

function canonical(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  return Object.keys(value)
    .sort()
    .map((k) => [k, canonical((value as Record<string, unknown>)[k])]);
}
