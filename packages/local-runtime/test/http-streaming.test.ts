import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFixture, startRuntime, type RunningRuntime } from "./runtime-harness.js";

// With app.setup({ enableHttpStream: true }) requests and responses go through the library's own HTTP proxy,
// as under the real host.
let runtime: RunningRuntime;

beforeAll(async () => {
  runtime = await startRuntime({ appRoot: copyFixture(), env: { FIXTURE_HTTP_STREAM: "true" } });
});

afterAll(async () => {
  await runtime?.stop();
});

describe("HTTP streaming mode", () => {
  it("streams a ReadableStream response body", async () => {
    expect(runtime.output()).toMatch(/HTTP streaming enabled by the app/);
    const res = await fetch(`${runtime.baseUrl}/api/stream`);
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("chunk-1;chunk-2;chunk-3;");
  });

  it("passes route params, query, headers and a binary request body", async () => {
    const body = Buffer.from([0, 255, 1, 254]);
    const res = await fetch(`${runtime.baseUrl}/api/echo/s2/a/b?q=1`, { method: "POST", headers: { "x-test": "streamed" }, body });
    expect(await res.json()).toMatchObject({
      method: "POST",
      params: { section: "s2", path: "a/b" },
      query: { q: "1" },
      header: "streamed",
      bodyBase64: body.toString("base64"),
    });
  });

  it("answers 500 when a streaming handler throws, and keeps serving", async () => {
    expect((await fetch(`${runtime.baseUrl}/api/boom`)).status).toBe(500);
    expect((await fetch(`${runtime.baseUrl}/api/hello`)).status).toBe(200);
  });
});
