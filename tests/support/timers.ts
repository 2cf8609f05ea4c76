import type { RunningApp } from "./app.js";

/** Runs a non-HTTP function (a timer) now through the runtime's admin API, as `func` does; it answers 202 at once. */
export const fireFunction = (app: RunningApp, name: string): Promise<Response> =>
  fetch(`${app.baseUrl}/admin/functions/${name}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input: "" }) });

/** How many runs of the function have finished successfully, as the runtime logs them. */
export const succeededRuns = (app: RunningApp, name: string): number => app.output().split(`Executed 'Functions.${name}' (Succeeded`).length - 1;
