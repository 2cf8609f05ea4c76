import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFixture, startRuntime, waitUntil, type RunningRuntime } from "./runtime-harness.js";

const count = (text: string, pattern: RegExp): number => text.match(pattern)?.length ?? 0;

// The runtime batches its per-invocation lines (one write per event-loop turn); none may be lost or reordered.
describe("runtime output under load", () => {
  let runtime: RunningRuntime;

  beforeAll(async () => {
    runtime = await startRuntime({ appRoot: copyFixture() });
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  it("prints one Executing and one Executed line per invocation, Executing first", async () => {
    const total = 200;
    const responses = await Promise.all(Array.from({ length: total }, () => fetch(`${runtime.baseUrl}/api/hello`)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    await waitUntil(() => count(runtime.output(), /Executed 'Functions\.hello' \(Succeeded/g) >= total);
    const out = runtime.output();
    const executing = [...out.matchAll(/Executing 'Functions\.hello' \(Reason='[^']*', Id=([0-9a-f-]+)\)/g)];
    const executed = [...out.matchAll(/Executed 'Functions\.hello' \(Succeeded, Id=([0-9a-f-]+), Duration=\d+ms\)/g)];
    expect(executing).toHaveLength(total);
    expect(executed).toHaveLength(total);
    for (const done of executed) {
      const start = executing.find((e) => e[1] === done[1]);
      expect(start?.index).toBeLessThan(done.index as number);
    }
    // Every line is whole: stamped, and never two stamps run together.
    for (const line of out.split("\n").filter((l) => l.includes("'Functions.hello'"))) expect(line).toMatch(/^\[\d{4}-\d\d-\d\dT[^\]]+Z\] Execut/);
  });

  it("keeps what the app writes to stdout between the Executing and Executed lines of its invocation", async () => {
    for (let n = 1; n <= 5; n++) expect((await fetch(`${runtime.baseUrl}/api/console-order?n=${n}`)).status).toBe(200);
    await waitUntil(() => count(runtime.output(), /Executed 'Functions\.console-order'/g) >= 5);
    const lines = runtime.output().split("\n");
    for (let n = 1; n <= 5; n++) {
      const at = lines.findIndex((l) => l === `console line from console-order ${n}`);
      expect(at).toBeGreaterThan(0);
      expect(lines[at - 1]).toMatch(/Executing 'Functions\.console-order'/);
      expect(lines[at + 1]).toMatch(/Executed 'Functions\.console-order' \(Succeeded/);
    }
  });
});

describe("runtime output when the process ends", () => {
  it("flushes batched lines when the process exits in the middle of an invocation", async () => {
    const runtime = await startRuntime({ appRoot: copyFixture() });
    await fetch(`${runtime.baseUrl}/api/exit-now?code=9`).catch(() => undefined);
    expect(await runtime.stop()).toBe(9);
    expect(runtime.output()).toMatch(/Executing 'Functions\.exit-now' \(Reason='[^']*', Id=[0-9a-f-]+\)/);
  });

  it("flushes everything on shutdown, ending with Host stopped", async () => {
    const runtime = await startRuntime({ appRoot: copyFixture() });
    await Promise.all(Array.from({ length: 20 }, () => fetch(`${runtime.baseUrl}/api/hello`)));
    expect(await runtime.stop("SIGTERM")).toBe(0);
    const out = runtime.output();
    expect(out.match(/Executed 'Functions\.hello' \(Succeeded/g)).toHaveLength(20);
    expect(out.trimEnd()).toMatch(/Host stopped$/);
  });
});
