import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FunctionMetadataResponse } from "../src/admin-functions.js";
import { copyFixture, startRuntime, type RunningRuntime } from "./runtime-harness.js";

interface Binding {
  type: string;
  direction: string;
  name: string;
  [option: string]: unknown;
}

/** The host's shape, with the bindings' common fields spelled out for the assertions. */
type Listed = Omit<FunctionMetadataResponse, "config"> & { config: Omit<FunctionMetadataResponse["config"], "bindings"> & { bindings: Binding[] } };

let runtime: RunningRuntime;
let list: Listed[];
const byName = (name: string): Listed => {
  const found = list.find((f) => f.name === name);
  if (!found) throw new Error(`${name} is not listed`);
  return found;
};

beforeAll(async () => {
  runtime = await startRuntime({ appRoot: copyFixture() });
  const res = await fetch(`${runtime.baseUrl}/admin/functions`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  list = (await res.json()) as Listed[];
});

afterAll(async () => {
  await runtime?.stop();
});

describe("GET /admin/functions", () => {
  it("lists every registered function in the host's FunctionMetadataResponse shape", () => {
    const names = list.map((f) => f.name);
    for (const name of ["hello", "echo", "items-rest", "startup-timer", "queue-consumer", "custom-trigger", "disabled-fn"]) {
      expect(names).toContain(name);
    }
    expect(new Set(names).size).toBe(names.length);
    const hello = byName("hello");
    expect(Object.keys(hello)).toEqual([
      "name",
      "script_root_path_href",
      "script_href",
      "config_href",
      "test_data_href",
      "href",
      "invoke_url_template",
      "language",
      "config",
      "files",
      "test_data",
      "isDisabled",
      "isDirect",
      "isProxy",
    ]);
    expect(hello).toMatchObject({
      name: "hello",
      script_root_path_href: null,
      script_href: `${runtime.baseUrl}/admin/vfs/functions/http.js`,
      href: `${runtime.baseUrl}/admin/functions/hello`,
      invoke_url_template: `${runtime.baseUrl}/api/hello`,
      language: "node",
      isDisabled: false,
      isDirect: false,
      isProxy: false,
    });
    expect(hello.config).toMatchObject({ name: "hello", language: "node", entryPoint: "" });
    expect(hello.config.scriptFile).toMatch(/functions[/\\]http\.js$/);
  });

  it("shows the registered bindings: type, direction, name and options such as route, methods and authLevel", () => {
    // As the worker reports them: everything the library registered (e.g. properties), with the name added.
    expect(byName("hello").config.bindings).toEqual([
      expect.objectContaining({ type: "httpTrigger", direction: "in", authLevel: "anonymous", methods: ["GET"], name: expect.any(String) }),
      expect.objectContaining({ type: "http", direction: "out", name: "$return" }),
    ]);
    const echo = byName("echo");
    expect(echo.config.bindings.find((b) => b.type === "httpTrigger")).toMatchObject({ direction: "in", route: "echo/{section}/{*path}", methods: ["POST", "PUT"] });
    // The host lower-cases the whole template.
    expect(echo.invoke_url_template).toBe(`${runtime.baseUrl}/api/echo/{section}/{*path}`);
    // Options are shown as registered: %NAME% references unresolved.
    const timer = byName("startup-timer");
    expect(timer.config.bindings.find((b) => b.type === "timerTrigger")).toMatchObject({ direction: "in", schedule: "%FIXTURE_YEARLY_SCHEDULE%", runOnStartup: true });
    expect(timer.invoke_url_template).toBeNull();
    expect(byName("queue-consumer").config.bindings.find((b) => b.type === "serviceBusTrigger")).toMatchObject({ queueName: "jobs", connection: "ServiceBusConnection" });
    // Extra outputs are bindings too.
    expect(byName("extra-output").config.bindings.map((b) => b.type).sort()).toEqual(["http", "httpTrigger", "queue"]);
  });

  it("marks functions disabled by AzureWebJobs.<name>.Disabled", () => {
    expect(byName("disabled-fn").isDisabled).toBe(true);
    expect(byName("hello").isDisabled).toBe(false);
  });

  it("is enough to enumerate every HTTP function with its route and methods, as the start-up listing shows them", () => {
    const http = list.filter((f) => f.config.bindings.some((b) => b.type === "httpTrigger"));
    expect(http.length).toBeGreaterThan(10);
    const listed = [...runtime.output().matchAll(/^ {8}([\w-]+): \[([A-Z,]+)\] http:\/\/127\.0\.0\.1:\d+\/api\/(\S+)/gm)].map((m) => m[1]);
    expect(http.map((f) => f.name).sort()).toEqual([...listed].sort());
    for (const f of http) {
      const trigger = f.config.bindings.find((b) => b.type === "httpTrigger") as Binding;
      const route = typeof trigger.route === "string" ? trigger.route : f.name;
      expect(f.invoke_url_template).toBe(`${runtime.baseUrl}/api/${route}`.toLowerCase());
    }
  });

  it("serves the function routes it lists", async () => {
    const hello = byName("hello");
    const trigger = hello.config.bindings.find((b) => b.type === "httpTrigger") as Binding;
    const res = await fetch(hello.invoke_url_template as string, { method: (trigger.methods as string[])[0] });
    expect(await res.text()).toBe("hello");
  });
});

describe("GET /admin/functions/{name}", () => {
  it("answers one function, matching the name case-insensitively", async () => {
    const res = await fetch(`${runtime.baseUrl}/admin/functions/ECHO`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(byName("echo"));
  });

  it("answers 404 for an unknown function", async () => {
    const res = await fetch(`${runtime.baseUrl}/admin/functions/missing`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("");
  });
});
