import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFixture, startRuntime, waitUntil, type RunningRuntime } from "./runtime-harness.js";

interface Run {
  name: string;
  at: number;
  endedAt?: number;
  isPastDue: boolean;
  scheduleStatus: { last: string; next: string; lastUpdated: string } | null;
  schedule: { adjustForDST: boolean };
}

let runtime: RunningRuntime;
let appRoot: string;
let missedOccurrence: Date;
const runs = async (name: string): Promise<Run[]> =>
  ((await (await fetch(`${runtime.baseUrl}/api/runs`)).json()) as Run[]).filter((r) => r.name === name);

beforeAll(async () => {
  appRoot = copyFixture();
  // The monitored timer (every 5 minutes) last ran two occurrences ago: the runtime was down when one was due.
  const fiveMinutes = 5 * 60_000;
  const last = new Date(Math.floor(Date.now() / fiveMinutes) * fiveMinutes - 2 * fiveMinutes);
  missedOccurrence = new Date(last.getTime() + fiveMinutes);
  mkdirSync(path.join(appRoot, ".local-data/timers"), { recursive: true });
  writeFileSync(
    path.join(appRoot, ".local-data/timers/monitored-timer.json"),
    JSON.stringify({ Last: last.toISOString(), Next: missedOccurrence.toISOString(), LastUpdated: last.toISOString() }),
  );
  runtime = await startRuntime({ appRoot, env: { "AzureWebJobs.slow-timer.Disabled": "false" } });
});

afterAll(async () => {
  await runtime?.stop();
});

describe("timer triggers in the local runtime", () => {
  it("runs a runOnStartup timer once at start, with its %NAME% schedule resolved from settings", async () => {
    await waitUntil(async () => (await runs("startup-timer")).length > 0);
    const [run] = await runs("startup-timer");
    expect(run?.isPastDue).toBe(false);
    expect(run?.schedule).toEqual({ adjustForDST: true });
    expect(run?.scheduleStatus?.next).toMatch(/^\d{4}-01-01T00:00:00\.000Z$/);
    expect(runtime.output()).toMatch(/startup-timer: timerTrigger \(0 0 0 1 1 \*\)/);
  });

  it("fires a run missed while the runtime was down once at start, marked past due", async () => {
    await waitUntil(async () => (await runs("monitored-timer")).length > 0);
    const monitored = await runs("monitored-timer");
    expect(monitored).toHaveLength(1);
    expect(monitored[0]?.isPastDue).toBe(true);
    await waitUntil(() => JSON.parse(readFileSync(path.join(appRoot, ".local-data/timers/monitored-timer.json"), "utf8")).Last === missedOccurrence.toISOString());
    const status = JSON.parse(readFileSync(path.join(appRoot, ".local-data/timers/monitored-timer.json"), "utf8")) as { Next: string };
    expect(new Date(status.Next).getTime()).toBeGreaterThan(Date.now());
  });

  it("runs admin-fired timers one after the other, never overlapping", async () => {
    const fire = (): Promise<Response> =>
      fetch(`${runtime.baseUrl}/admin/functions/manual-timer`, { method: "POST", body: JSON.stringify({ input: "" }) });
    expect((await fire()).status).toBe(202);
    expect((await fire()).status).toBe(202);
    await waitUntil(async () => (await runs("manual-timer")).filter((r) => r.endedAt).length === 2);
    const [first, second] = await runs("manual-timer");
    expect(second!.at).toBeGreaterThanOrEqual(first!.endedAt!);
    expect(first?.isPastDue).toBe(false);
  });

  it("skips occurrences of a scheduled timer while its previous run is still going", async () => {
    await runtime.waitForOutput(/Timer 'slow-timer' is still running; skipping the occurrence/, 6000);
    await waitUntil(async () => (await runs("slow-timer")).filter((r) => r.endedAt).length >= 1, 6000);
    const slow = (await runs("slow-timer")).sort((a, b) => a.at - b.at);
    for (let i = 1; i < slow.length; i++) expect(slow[i]!.at).toBeGreaterThanOrEqual(slow[i - 1]!.endedAt!);
  });
});
