// The local Durable Functions engine through the built runtime (dist/cli.js) and the fixture app's
// df.app.orchestration / df.app.activity / df.app.client.http functions, over real HTTP.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFixture, startRuntime, waitUntil, type RunningRuntime } from "../runtime-harness.js";

interface Status {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: { EventType: string }[];
}

function activityRuns(appRoot: string): { kind: string; value: unknown }[] {
  const file = path.join(appRoot, "records", "activities.log");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { kind: string; value: unknown });
}

const api = (rt: RunningRuntime): string => `${rt.baseUrl}/runtime/webhooks/durabletask`;

async function start(rt: RunningRuntime, name: string, input?: unknown, id?: string): Promise<string> {
  const res = await fetch(`${rt.baseUrl}/api/start/${name}${id ? `/${id}` : ""}`, { method: "POST", body: input === undefined ? "" : JSON.stringify(input) });
  expect(res.status).toBe(202);
  const body = (await res.json()) as { id: string; statusQueryGetUri: string };
  return body.id;
}

async function status(rt: RunningRuntime, id: string, query = ""): Promise<Status> {
  const res = await fetch(`${api(rt)}/instances/${encodeURIComponent(id)}${query}`);
  expect([200, 202]).toContain(res.status);
  return (await res.json()) as Status;
}

async function waitFor(rt: RunningRuntime, id: string, statuses: string[] = ["Completed", "Failed", "Terminated"], timeoutMs = 10_000): Promise<Status> {
  let last: Status | undefined;
  await waitUntil(
    async () => {
      last = await status(rt, id);
      return statuses.includes(last.runtimeStatus);
    },
    timeoutMs,
    50,
  );
  return last as Status;
}

async function raise(rt: RunningRuntime, id: string, event: string, data: unknown): Promise<number> {
  const res = await fetch(`${api(rt)}/instances/${encodeURIComponent(id)}/raiseEvent/${event}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(data),
  });
  return res.status;
}

describe("durable engine (in memory)", () => {
  let appRoot: string;
  let rt: RunningRuntime;

  beforeAll(async () => {
    appRoot = copyFixture("durable-app");
    writeFileSync(path.join(appRoot, "flip.txt"), "A");
    rt = await startRuntime({ appRoot, env: { LOCAL_DURABLE_DATA: "memory" } });
  });
  afterAll(async () => {
    await rt?.stop();
  });

  it("lists the durable functions and the task hub from host.json", () => {
    expect(rt.output()).toMatch(/chain: orchestrationTrigger/);
    expect(rt.output()).toMatch(/sayHello: activityTrigger/);
    expect(rt.output()).toMatch(/task hub 'FixtureHub', instances kept in memory/);
  });

  it("runs an activity chain through the client starter and reports the status shape", async () => {
    const id = await start(rt, "chain", ["Tokyo", "Seattle", "London"]);
    const done = await waitFor(rt, id);
    expect(done).toMatchObject({
      name: "chain",
      instanceId: id,
      runtimeStatus: "Completed",
      input: ["Tokyo", "Seattle", "London"],
      output: ["Hello Tokyo", "Hello Seattle", "Hello London"],
      customStatus: null,
    });
    expect(done.createdTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(done.lastUpdatedTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // The same status through the library's DurableClient (rpcBaseUrl → this runtime), with history.
    const viaClient = (await (await fetch(`${rt.baseUrl}/api/status/${id}`)).json()) as Status;
    expect(viaClient.runtimeStatus).toBe("Completed");
    const history = await status(rt, id, "?showHistory=true&showHistoryOutput=true");
    expect(history.historyEvents?.map((e) => e.EventType)).toEqual([
      "ExecutionStarted",
      "TaskCompleted",
      "TaskCompleted",
      "TaskCompleted",
      "ExecutionCompleted",
    ]);
  });

  it("retries a failing activity with timers between attempts, then succeeds; gives up after maxNumberOfAttempts", async () => {
    const ok = await start(rt, "withRetry", { key: "r1", failures: 2, maxAttempts: 4 });
    const gaveUp = await start(rt, "withRetry", { key: "r2", failures: 5, maxAttempts: 2 });
    const done = await waitFor(rt, ok);
    expect(done.output).toBe("ok after 3");
    const failed = await waitFor(rt, gaveUp);
    expect(failed.runtimeStatus).toBe("Completed");
    expect(failed.output).toMatchObject({ failed: true });
    expect(String((failed.output as { message: string }).message)).toMatch(/flaky failure 2/);
    const runs = activityRuns(appRoot).filter((r) => r.kind === "flaky");
    expect(runs.filter((r) => (r.value as { key: string }).key === "r1")).toHaveLength(3);
    expect(runs.filter((r) => (r.value as { key: string }).key === "r2")).toHaveLength(2);
    const history = await status(rt, ok, "?showHistory=true");
    const types = history.historyEvents?.map((e) => e.EventType) ?? [];
    expect(types.filter((t) => t === "TaskFailed")).toHaveLength(2);
    expect(types.filter((t) => t === "TimerFired")).toHaveLength(2);
  });

  it("fires a durable timer and advances the replay clock", async () => {
    const id = await start(rt, "timerThenActivity");
    const started = Date.now();
    const done = await waitFor(rt, id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect((done.output as { elapsedMs: number }).elapsedMs).toBeGreaterThanOrEqual(1000);
  });

  it("races an external event against a timer: the timer wins when nobody raises, the event wins and cancels the timer", async () => {
    const timerWins = await start(rt, "race", { timeoutMs: 500 });
    const eventWins = await start(rt, "race", { timeoutMs: 60_000 });
    await waitUntil(async () => (await status(rt, eventWins)).runtimeStatus === "Running");
    expect(await raise(rt, eventWins, "Approve", { by: "ana" })).toBe(202);
    const won = await waitFor(rt, eventWins);
    expect(won.output).toEqual({ winner: "event", payload: { by: "ana" } });
    expect((await waitFor(rt, timerWins)).output).toEqual({ winner: "timer" });
    // A finished instance refuses events with 410.
    expect(await raise(rt, eventWins, "Approve", {})).toBe(410);
    expect(await raise(rt, "no-such-instance", "Approve", {})).toBe(404);
  });

  it("moves an instance's clock ahead through the admin API and fires the timers then due", async () => {
    const fire = (id: string, body: unknown): Promise<Response> =>
      fetch(`${rt.baseUrl}/admin/durable/instances/${encodeURIComponent(id)}/timers/fire`, { method: "POST", body: JSON.stringify(body) });
    const timerCreated = async (id: string, count: number): Promise<boolean> =>
      ((await status(rt, id, "?showHistory=true")).historyEvents ?? []).filter((e) => e.EventType === "TimerCreated").length >= count;
    expect((await fire("no-such-instance", { advanceHours: 1 })).status).toBe(404);

    const id = await start(rt, "twoTimers", { firstHours: 2, secondHours: 5 }, "timers-1");
    await waitUntil(() => timerCreated(id, 1));
    for (const bad of [{}, { advanceHours: 0 }, { advanceHours: -1 }, { advanceHours: "3" }, { advanceHours: 24 * 366 + 1 }, null]) {
      expect((await fire(id, bad)).status).toBe(400);
    }
    const malformed = await fetch(`${rt.baseUrl}/admin/durable/instances/${id}/timers/fire`, { method: "POST", body: "{" });
    expect(malformed.status).toBe(400);
    // Not due one hour ahead: nothing fires (the clock stays an hour ahead).
    const none = await fire(id, { advanceHours: 1 });
    expect(none.status).toBe(200);
    expect(await none.json()).toEqual({ fired: [] });

    // Four hours ahead now: the first timer (two hours) fires; the second is set five hours after that episode's clock.
    const first = await fire(id, { advanceHours: 3 });
    expect(first.status).toBe(200);
    const { fired } = (await first.json()) as { fired: { timerId: number; fireAt: string }[] };
    expect(fired).toHaveLength(1);
    const due = Date.parse(fired[0]!.fireAt) - Date.now();
    expect(due).toBeGreaterThan(1.9 * 3_600_000);
    expect(due).toBeLessThanOrEqual(2 * 3_600_000);
    // The second timer comes from the episodes the fire caused, nine hours ahead: not due yet.
    await waitUntil(() => timerCreated(id, 2));
    expect((await status(rt, id)).runtimeStatus).toBe("Running");
    expect(activityRuns(appRoot).filter((r) => r.value === "after-first")).toHaveLength(1);
    const history = await status(rt, id, "?showHistory=true");
    const timerFired = history.historyEvents?.filter((e) => e.EventType === "TimerFired") as unknown as { FireAt: string }[];
    expect(timerFired).toHaveLength(1);
    expect(Date.parse(timerFired[0]!.FireAt)).toBe(Date.parse(fired[0]!.fireAt));

    const second = (await (await fire(id, { advanceHours: 6 })).json()) as { fired: unknown[] };
    expect(second.fired).toHaveLength(1);
    expect((await waitFor(rt, id)).output).toBe("both fired");
    // A finished instance has no timers left.
    expect(await (await fire(id, { advanceHours: 6 })).json()).toEqual({ fired: [] });
  });

  it("re-arms the timers a move of the clock leaves open against the moved clock", async () => {
    // Two hours and two seconds ahead; moving the clock two hours leaves it two seconds from firing.
    const id = await start(rt, "race", { timeoutMs: 2 * 3_600_000 + 2_000 }, "timers-rearm");
    await waitUntil(async () => ((await status(rt, id, "?showHistory=true")).historyEvents ?? []).some((e) => e.EventType === "TimerCreated"));
    const moved = (await (await fetch(`${rt.baseUrl}/admin/durable/instances/${id}/timers/fire`, { method: "POST", body: JSON.stringify({ advanceHours: 2 }) })).json()) as {
      fired: unknown[];
    };
    expect(moved.fired).toEqual([]);
    expect((await waitFor(rt, id)).output).toEqual({ winner: "timer" });
  });

  it("fires a timer more than six days ahead (durable-functions' long timer) with one move of the clock", async () => {
    const id = await start(rt, "longTimer", { hours: 24 * 10 }, "timers-long");
    await waitUntil(async () => ((await status(rt, id, "?showHistory=true")).historyEvents ?? []).some((e) => e.EventType === "TimerCreated"));
    const { fired } = (await (await fetch(`${rt.baseUrl}/admin/durable/instances/${id}/timers/fire`, { method: "POST", body: JSON.stringify({ advanceHours: 24 * 10 + 1 }) })).json()) as {
      fired: unknown[];
    };
    // The first 3-day piece fires; the episode's clock is past the end, so the library asks for no further piece.
    expect(fired).toHaveLength(1);
    expect((await waitFor(rt, id)).output).toBe("long timer fired");
  });

  it("buffers an event raised before the orchestrator waits for it, and shows custom status", async () => {
    const id = await start(rt, "waitForEvent", undefined, "evt-1");
    await waitUntil(async () => (await status(rt, id)).customStatus !== null);
    expect((await status(rt, id)).customStatus).toEqual({ stage: "waiting" });
    // Through the library's DurableClient.raiseEvent.
    const res = await fetch(`${rt.baseUrl}/api/raise/${id}/Go`, { method: "POST", body: JSON.stringify({ n: 7 }) });
    expect(res.status).toBe(202);
    const done = await waitFor(rt, id);
    expect(done.output).toEqual({ echoed: { n: 7 } });
    expect(done.customStatus).toEqual({ stage: "done" });
  });

  it("a second start of a running instance id through the app starter is a no-op; the raw API answers 500 like the extension", async () => {
    const id = await start(rt, "waitForEvent", undefined, "once-1");
    const again = await start(rt, "waitForEvent", undefined, "once-1");
    expect(again).toBe(id);
    const raw = await fetch(`${api(rt)}/orchestrators/waitForEvent/once-1`, { method: "POST", body: "" });
    expect(raw.status).toBe(500);
    expect(JSON.stringify(await raw.json())).toMatch(/already exists/);
    const unknown = await fetch(`${api(rt)}/orchestrators/nope`, { method: "POST", body: "" });
    expect(unknown.status).toBe(400);
    await raise(rt, id, "Go", "once");
    await waitFor(rt, id);
  });

  it("runs sub-orchestrations and surfaces a failing child as an error in the parent", async () => {
    const id = await start(rt, "parentSimple", undefined, "parent-1");
    const done = await waitFor(rt, id);
    expect(done.runtimeStatus).toBe("Completed");
    const output = done.output as { child: string[]; childFailure: string };
    expect(output.child).toEqual(["Hello Oslo", "Hello Rome"]);
    expect(output.childFailure).toMatch(/this activity always fails/);
    expect((await status(rt, "parent-1-child")).runtimeStatus).toBe("Completed");
  });

  it("fans out 20 activities with Task.all", async () => {
    const id = await start(rt, "fanOut", 20);
    const done = await waitFor(rt, id);
    expect(done.output).toBe(420);
    expect(activityRuns(appRoot).filter((r) => r.kind === "double")).toHaveLength(20);
  });

  it("continues as new until done", async () => {
    const id = await start(rt, "counter", 0);
    const done = await waitFor(rt, id);
    expect(done.output).toEqual({ final: 3 });
    expect(done.input).toBe(3);
    const echoes = activityRuns(appRoot).filter((r) => r.kind === "echo" && typeof r.value === "number");
    expect(echoes.map((r) => r.value)).toEqual([0, 1, 2, 3]);
  });

  it("terminates an instance through the client, and lists/filters/purges instances", async () => {
    const id = await start(rt, "waitForEvent", undefined, "term-1");
    await waitUntil(async () => (await status(rt, id)).runtimeStatus === "Running");
    expect((await fetch(`${rt.baseUrl}/api/terminate/${id}`, { method: "POST" })).status).toBe(202);
    const done = await waitFor(rt, id);
    expect(done.runtimeStatus).toBe("Terminated");
    expect(done.output).toBe("stopped by test");
    expect((await fetch(`${api(rt)}/instances/${id}/terminate?reason=x`, { method: "POST" })).status).toBe(410);

    const listed = (await (await fetch(`${rt.baseUrl}/api/list?status=Terminated`)).json()) as { instanceId: string }[];
    expect(listed.map((s) => s.instanceId)).toContain(id);
    const all = (await (await fetch(`${api(rt)}/instances/?runtimeStatus=Completed,Terminated`)).json()) as Status[];
    expect(all.length).toBeGreaterThan(3);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(await (await fetch(`${api(rt)}/instances/?createdTimeFrom=${future}`)).json()).toEqual([]);

    const purged = await fetch(`${api(rt)}/instances/${id}`, { method: "DELETE" });
    expect(purged.status).toBe(200);
    expect(await purged.json()).toEqual({ instancesDeleted: 1 });
    expect((await fetch(`${api(rt)}/instances/${id}`)).status).toBe(404);
  });

  it("fails an orchestrator whose replay no longer matches its history (nondeterminism)", async () => {
    writeFileSync(path.join(appRoot, "flip.txt"), "A");
    const id = await start(rt, "flip", undefined, "flip-1");
    await waitUntil(async () => activityRuns(appRoot).some((r) => r.kind === "sayHello" && r.value === "first"));
    await waitUntil(async () => (await status(rt, id, "?showHistory=true")).historyEvents?.some((e) => e.EventType === "TaskCompleted") === true);
    writeFileSync(path.join(appRoot, "flip.txt"), "B");
    expect(await raise(rt, id, "Continue", null)).toBe(202);
    const done = await waitFor(rt, id);
    expect(done.runtimeStatus).toBe("Failed");
    expect(String(done.output)).toMatch(/nondeterministic orchestrator 'flip'/i);
    expect(String(done.output)).toMatch(/CallActivity 'sayHello'.*CallActivity 'echo'/);
    expect(activityRuns(appRoot).filter((r) => r.value === "second")).toHaveLength(0);
  });
});

describe("durable engine persistence across a killed runtime", () => {
  it("resumes instances waiting on a timer and on an event after SIGKILL, running each activity once", async () => {
    const appRoot = copyFixture("durable-app");
    const env = { LOCAL_DURABLE_DATA: ".local-data/durable-test" };
    let rt = await startRuntime({ appRoot, env });
    const onTimer = await start(rt, "durableWait", { timeoutMs: 2500, tag: "t" }, "wait-timer");
    const onEvent = await start(rt, "durableWait", { timeoutMs: 600_000, tag: "e" }, "wait-event");
    await waitUntil(() => activityRuns(appRoot).filter((r) => String(r.value).endsWith(":before")).length === 2);
    // Let the episodes that follow the first activities persist their timers.
    await waitUntil(async () => (await status(rt, onTimer, "?showHistory=true")).historyEvents?.some((e) => e.EventType === "TimerCreated") === true);
    await waitUntil(async () => (await status(rt, onEvent, "?showHistory=true")).historyEvents?.some((e) => e.EventType === "TimerCreated") === true);
    await rt.stop("SIGKILL");

    rt = await startRuntime({ appRoot, env });
    try {
      expect(rt.output()).toMatch(/2 instance\(s\) loaded, 2 resumed/);
      expect(await raise(rt, onEvent, "Resume", null)).toBe(202);
      expect((await waitFor(rt, onEvent)).output).toBe("event");
      expect((await waitFor(rt, onTimer)).output).toBe("timer");
      const values = activityRuns(appRoot).map((r) => r.value);
      for (const v of ["t:before", "t:after", "e:before", "e:after"]) expect(values.filter((x) => x === v)).toHaveLength(1);
    } finally {
      await rt.stop();
    }
  });
});
