import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFixture, startRuntime, type RunningRuntime } from "./runtime-harness.js";

let runtime: RunningRuntime;
const url = (p: string): string => `${runtime.baseUrl}${p}`;

beforeAll(async () => {
  runtime = await startRuntime({ appRoot: copyFixture(), env: { FIXTURE_SETTING: "from-environment" } });
});

afterAll(async () => {
  await runtime?.stop();
});

describe("HTTP triggers in the local runtime", () => {
  it("serves a function at its default route (the function name) under the route prefix", async () => {
    const res = await fetch(url("/api/hello"));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello");
  });

  it("orders routes like the host: literal, constrained parameter, parameter, catch-all", async () => {
    const kind = async (p: string): Promise<unknown> => ((await (await fetch(url(p))).json()) as { kind: string }).kind;
    expect(await kind("/api/items/special")).toBe("literal");
    expect(await kind("/api/ITEMS/Special")).toBe("literal");
    expect(await kind("/api/items/42")).toBe("int");
    expect(await kind("/api/items/forty-two")).toBe("param");
    expect(await kind("/api/items/a/b/c")).toBe("catch-all");
  });

  it("passes route parameters and applies guid, alpha, bool and optional templates", async () => {
    const guid = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
    expect(await (await fetch(url(`/api/things/${guid}`))).json()).toEqual({ kind: "guid", params: { id: guid } });
    expect((await fetch(url("/api/things/not-a-guid"))).status).toBe(404);
    expect(await (await fetch(url("/api/letters/abc"))).json()).toEqual({ kind: "alpha", params: { word: "abc" } });
    expect((await fetch(url("/api/letters/abc1"))).status).toBe(404);
    expect(await (await fetch(url("/api/flags/TRUE"))).json()).toEqual({ kind: "bool", params: { on: "TRUE" } });
    expect((await fetch(url("/api/flags/yes"))).status).toBe(404);
    expect(await (await fetch(url("/api/optional"))).json()).toEqual({ kind: "optional", params: {} });
    expect(await (await fetch(url("/api/optional/7"))).json()).toEqual({ kind: "optional", params: { id: "7" } });
  });

  it("answers 404 with an empty body for an unknown path and for a known path with the wrong method", async () => {
    const unknown = await fetch(url("/api/nope"));
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe("");
    const wrongMethod = await fetch(url("/api/hello"), { method: "DELETE" });
    expect(wrongMethod.status).toBe(404);
    expect(await wrongMethod.text()).toBe("");
  });

  it("passes method, params, query, headers, client address and a binary body unchanged", async () => {
    const body = Buffer.from([0, 1, 2, 254, 255, 0, 128]);
    const res = await fetch(url("/api/echo/s1/deep/path?x=1&x=2&y=z"), {
      method: "PUT",
      headers: { "x-test": "yes", "content-type": "application/octet-stream" },
      body,
    });
    expect(res.status).toBe(200);
    const echoed = (await res.json()) as Record<string, unknown>;
    expect(echoed).toMatchObject({
      method: "PUT",
      params: { section: "s1", path: "deep/path" },
      query: { x: "1,2", y: "z" },
      header: "yes",
      contentType: "application/octet-stream",
      bodyBase64: body.toString("base64"),
    });
    expect(String(echoed.url)).toMatch(/\/api\/echo\/s1\/deep\/path\?x=1&x=2&y=z$/);
    expect(String(echoed.forwardedFor)).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("writes cookies and headers from the HttpResponse", async () => {
    const res = await fetch(url("/api/cookies"));
    expect(res.headers.get("x-custom")).toBe("yes");
    expect(res.headers.getSetCookie()).toEqual([
      "session=abc%20123; max-age=60; path=/; samesite=strict; httponly",
      "theme=dark; path=/api; secure",
    ]);
  });

  it("sends a ReadableStream body in full with its status", async () => {
    const res = await fetch(url("/api/stream"));
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("chunk-1;chunk-2;chunk-3;");
  });

  it("keeps the return binding as the response and reports extra outputs it cannot deliver", async () => {
    const res = await fetch(url("/api/extra-output"), { method: "POST", body: "payload-1" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ queued: true });
    await runtime.waitForOutput(/Output binding '[^']+' \(queue\) of 'extra-output' is not supported locally yet; value dropped: \{"forwarded":"payload-1"\}/);
  });

  it("answers 500 with an empty body when a handler throws, and keeps serving", async () => {
    const res = await fetch(url("/api/boom"));
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("");
    await runtime.waitForOutput(/Executed 'Functions\.boom' \(Failed, Id=[0-9a-f-]+, Duration=\d+ms\)/);
    expect((await fetch(url("/api/hello"))).status).toBe(200);
  });

  it("prints context.log lines prefixed with the function name, and one Executed line per invocation", async () => {
    expect((await fetch(url("/api/logs"))).status).toBe(204);
    await runtime.waitForOutput(/\[logs\] info line from logs/);
    await runtime.waitForOutput(/\[logs\] WARNING: warn line from logs/);
    await runtime.waitForOutput(/\[logs\] ERROR: error line from logs/);
    await runtime.waitForOutput(/Executed 'Functions\.logs' \(Succeeded, Id=[0-9a-f-]+, Duration=\d+ms\)/);
  });

  it("runs preInvocation and postInvocation hooks around the handler", async () => {
    const res = await fetch(url("/api/hooked"));
    expect(res.headers.get("x-pre-invocation")).toBe("wrapped");
    expect(await res.json()).toEqual({ original: { from: "handler" }, preSawHookData: true });
    // A postInvocation hook that clears the error turns the failure into a (bodiless) success.
    expect((await fetch(url("/api/hooked-error"))).status).toBe(200);
  });

  it("loads settings from the sample file without overriding the environment", async () => {
    const res = await fetch(url("/api/settings?names=FIXTURE_SETTING,FIXTURE_YEARLY_SCHEDULE,ConnectionStrings:fixture"));
    expect(await res.json()).toEqual({
      FIXTURE_SETTING: "from-environment",
      FIXTURE_YEARLY_SCHEDULE: "0 0 0 1 1 *",
      "ConnectionStrings:fixture": "Server=example",
    });
    expect(runtime.output()).toMatch(/Using app settings from local\.settings\.sample\.json/);
  });

  it("answers 404 for a function disabled with AzureWebJobs.<name>.Disabled", async () => {
    expect((await fetch(url("/api/disabled-fn"))).status).toBe(404);
    expect(runtime.output()).toMatch(/disabled-fn: \[GET\] http:\/\/127\.0\.0\.1:\d+\/api\/disabled-fn \(disabled\)/);
  });

  it("lists every function with its trigger, and unsupported triggers without failing", () => {
    const out = runtime.output();
    expect(out).toMatch(/hello: \[GET\] http:\/\/127\.0\.0\.1:\d+\/api\/hello/);
    expect(out).toMatch(/echo: \[POST,PUT\] http:\/\/127\.0\.0\.1:\d+\/api\/echo\/\{section\}\/\{\*path\}/);
    expect(out).toMatch(/startup-timer: timerTrigger \(0 0 0 1 1 \*\)/);
    // Its `connection` setting is missing from the fixture: listed in error, as the host does.
    expect(out).toMatch(/queue-consumer: serviceBusTrigger \(in error\)/);
  });

  it("invokes a non-HTTP function through POST /admin/functions/{name} and answers 202", async () => {
    const res = await fetch(url("/admin/functions/custom-trigger"), { method: "POST", body: JSON.stringify({ input: "from-admin" }) });
    expect(res.status).toBe(202);
    await runtime.waitForOutput(/Executed 'Functions\.custom-trigger' \(Succeeded/);
    const runs = (await (await fetch(url("/api/runs"))).json()) as { name: string; input?: unknown }[];
    expect(runs.find((r) => r.name === "custom-trigger")?.input).toBe("from-admin");
    expect((await fetch(url("/admin/functions/missing"), { method: "POST", body: '{"input":""}' })).status).toBe(404);
    expect((await fetch(url("/admin/functions/custom-trigger"), { method: "POST" })).status).toBe(400);
  });
});
