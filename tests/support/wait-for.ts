import type { RunningApp } from "./app.js";

/**
 * Polls `probe` until it returns something (not undefined) and returns that; on timeout, fails naming what
 * it waited for, with `diagnostics()` (e.g. the runtime's recent errors) appended.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, options: { timeoutMs?: number; stepMs?: number; diagnostics?: () => string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${options.diagnostics ? `\n${options.diagnostics()}` : ""}`);
    await new Promise((r) => setTimeout(r, options.stepMs ?? 100));
  }
}

/** The runtime's latest error and warning lines, for timeout messages. */
export const recentErrors = (app: RunningApp, lines = 15): string =>
  app
    .output()
    .split("\n")
    .filter((l) => /ERROR|WARN|rror/.test(l))
    .slice(-lines)
    .join("\n");
