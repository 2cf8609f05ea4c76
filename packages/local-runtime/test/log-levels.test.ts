import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LogLevelFilter, logLevelRank } from "../src/log-levels.js";
import { copyFixture, startRuntime, waitUntil, type RunningRuntime } from "./runtime-harness.js";

describe("host.json logging.logLevel rules", () => {
  const rank = logLevelRank;

  it("applies Information when there is no rule, and default when no category matches", () => {
    expect(new LogLevelFilter().minimum("Function.hello")).toBe(rank("information"));
    expect(new LogLevelFilter({ default: "Error" }).minimum("Function.hello")).toBe(rank("error"));
  });

  it("picks the longest matching category prefix, case-insensitively", () => {
    const filter = new LogLevelFilter({ default: "Trace", Function: "Warning", "function.Hello": "Error", "Function.hello.User": "Debug" });
    expect(filter.minimum("Function.other")).toBe(rank("warning"));
    expect(filter.minimum("Function.hello")).toBe(rank("error"));
    expect(filter.minimum("Function.hello.User")).toBe(rank("debug"));
    expect(filter.minimum("Host.Results")).toBe(rank("trace"));
  });

  it("supports one wildcard and None", () => {
    const filter = new LogLevelFilter({ "Function.*.User": "None" });
    expect(filter.enabled("Function.hello.User", "critical")).toBe(false);
    expect(filter.enabled("Function.hello", "information")).toBe(true);
    // The host counts the wildcard in a rule's length: "Function.*.User" (15) beats "Function.hello" (14).
    expect(new LogLevelFilter({ "Function.*.User": "Debug", "Function.hello": "Error" }).minimum("Function.hello.User")).toBe(rank("debug"));
  });

  it("reports and skips a value that is not a level", () => {
    const warnings: string[] = [];
    const filter = new LogLevelFilter({ Function: "Loud" }, (m) => warnings.push(m));
    expect(filter.minimum("Function.hello")).toBe(rank("information"));
    expect(warnings[0]).toMatch(/logLevel\.Function: "Loud" is not a log level/);
  });
});

describe("runtime output under host.json log levels", () => {
  let runtime: RunningRuntime;

  beforeAll(async () => {
    const appRoot = copyFixture();
    const hostJson = {
      version: "2.0",
      logging: { logLevel: { "Function.hello": "Warning", "Function.boom": "Warning", "Function.logs.User": "Warning" } },
      extensions: { http: { routePrefix: "api" } },
    };
    writeFileSync(path.join(appRoot, "host.json"), JSON.stringify(hostJson));
    runtime = await startRuntime({ appRoot });
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  it("suppresses the Executing/Executed lines of a function whose category is at Warning, and keeps its failures", async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${runtime.baseUrl}/api/hello`)).status).toBe(200);
    expect((await fetch(`${runtime.baseUrl}/api/boom`)).status).toBe(500);
    // Another function's lines still come, after the suppressed ones would have.
    expect((await fetch(`${runtime.baseUrl}/api/logs`)).status).toBe(204);
    await runtime.waitForOutput(/Executed 'Functions\.logs' \(Succeeded/);
    await runtime.waitForOutput(/Executed 'Functions\.boom' \(Failed, Id=[0-9a-f-]+, Duration=\d+ms\)/);
    const out = runtime.output();
    expect(out).not.toMatch(/Execut(ing|ed) 'Functions\.hello'/);
    expect(out).not.toMatch(/Executing 'Functions\.boom'/);
    expect(out).toMatch(/Executing 'Functions\.logs'/);
  });

  it("filters what a function logs through its context in Function.<name>.User", async () => {
    expect((await fetch(`${runtime.baseUrl}/api/logs`)).status).toBe(204);
    await waitUntil(() => (runtime.output().match(/Executed 'Functions\.logs' \(Succeeded/g)?.length ?? 0) >= 2);
    const out = runtime.output();
    expect(out).not.toMatch(/info line from logs/);
    expect(out).toMatch(/\[logs\] WARNING: warn line from logs/);
    expect(out).toMatch(/\[logs\] ERROR: error line from logs/);
  });
});
