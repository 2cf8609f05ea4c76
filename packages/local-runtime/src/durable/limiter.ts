// A counting semaphore: at most `limit` holders at once, the rest wait in arrival order. The engine keeps one
// for activity invocations and one for orchestrator episodes, as host.json's durableTask
// maxConcurrentActivityFunctions / maxConcurrentOrchestratorFunctions bound them in the extension.
export class Limiter {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  /** Runs `work` once a slot is free; the slot is released when it settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next waiter (the count stays), or give it back.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }

  get waiting(): number {
    return this.#waiting.length;
  }
}
