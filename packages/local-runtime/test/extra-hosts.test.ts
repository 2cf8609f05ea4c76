// `start --set ... --with-host ...`: a second host process of the same app, with settings of its own, sharing the
// first one's services (here its Service Bus broker); restarted when it dies, stopped with its parent.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { durableDataFor, parseSetting, parseSettings } from "../src/extra-host.js";
import { copyFixture, freePort, isProcessAlive, startRuntime, waitUntil, type RunningRuntime } from "./runtime-harness.js";

let appRoot: string;
let runtime: RunningRuntime;
let client: ServiceBusClient;

function handled(): { message: unknown; role: string; pid: number }[] {
  const file = path.join(appRoot, "records", "work.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { message: unknown; role: string; pid: number });
}

/** The second host's base URL and pid, from its prefixed start-up lines (the last start's, after a restart). */
async function secondHost(startNumber = 1): Promise<{ baseUrl: string; pid: number }> {
  const started = new RegExp(`(?:[^]*?\\[host 2\\] .*Host started){${startNumber}}`);
  await runtime.waitForOutput(started, 20_000);
  const urls = [...runtime.output().matchAll(/\[host 2\] .*Base URL: (http:\/\/127\.0\.0\.1:\d+)/g)];
  const pids = [...runtime.output().matchAll(/Host 2 starting \(pid (\d+)/g)];
  return { baseUrl: urls.at(-1)![1]!, pid: Number(pids.at(-1)![1]) };
}

/** The function names a host listed at start: the parent's lines unprefixed, the second host's with its prefix. */
function listed(prefix: string): string[] {
  const lines = runtime.output().split("\n").filter((l) => (prefix ? l.startsWith(prefix) : !l.startsWith("[host ")));
  const names: string[] = [];
  let inListing = false;
  for (const raw of lines) {
    const line = raw.slice(prefix.length);
    if (line === "Functions:") inListing = true;
    else if (inListing && /^\s{8}\S/.test(line)) names.push(line.trim().split(":")[0]!);
    else if (inListing && line.startsWith("[")) inListing = false;
  }
  return names.sort();
}

beforeAll(async () => {
  appRoot = copyFixture("roles-app");
  const busPort = await freePort();
  const connectionString = `Endpoint=sb://127.0.0.1:${busPort};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`;
  runtime = await startRuntime({
    appRoot,
    env: { ServiceBusConnection: connectionString },
    args: ["--set", "APP_ROLE=front", "--set", "FRONT_ONLY=a,b", "--with-host", "APP_ROLE=worker,EXTRA=yes,languageWorkers__node__arguments=--max-old-space-size=96 --stack-size=900"],
  });
  client = new ServiceBusClient(connectionString);
});

afterAll(async () => {
  await client?.close();
  await runtime?.stop();
});

describe("local-runtime start --with-host", () => {
  it("parses settings and gives each extra host a Durable store of its own", () => {
    expect(parseSettings("A=1,B=x=y", "--with-host")).toEqual({ A: "1", B: "x=y" });
    // A piece without "=" continues the setting before it: a comma-separated list as one value.
    expect(parseSettings("ROLES=a,b,c,N=x=y,z", "--with-host")).toEqual({ ROLES: "a,b,c", N: "x=y,z" });
    expect(() => parseSettings("a,B=1", "--with-host")).toThrow(/--with-host expects NAME=VALUE, got: a/);
    expect(() => parseSettings("A=1,,B=2", "--with-host")).toThrow(/--with-host expects NAME=VALUE, got: \(nothing\)/);
    expect(() => parseSetting("=1")).toThrow(/--set expects NAME=VALUE/);
    // One --set is one setting: its value may hold commas (connection strings, node flags).
    expect(parseSetting("A=x,y=z")).toEqual({ A: "x,y=z" });
    expect(durableDataFor(undefined, 2)).toBe(".local-data/durable-2");
    expect(durableDataFor("memory", 2)).toBe("memory");
    expect(durableDataFor("data/durable/", 3)).toBe("data/durable-3");
  });

  it("runs each host with its own settings, serving only its own functions", async () => {
    const worker = await secondHost();
    expect(listed("")).toEqual(["front-ping"]);
    expect(listed("[host 2] ")).toEqual(["work-on-queue", "worker-ping"]);

    const front = await fetch(`${runtime.baseUrl}/api/front/ping`);
    expect(await front.json()).toEqual({ role: "front", pid: runtime.child.pid });
    expect((await fetch(`${runtime.baseUrl}/api/worker/ping`)).status).toBe(404);

    const fromWorker = await fetch(`${worker.baseUrl}/api/worker/ping`);
    // languageWorkers__node__arguments became the second host's node flags.
    const answer = (await fromWorker.json()) as { role: string; pid: number; execArgv: string[]; frontOnly: string | null };
    // The first host's --set settings are its own: the second host does not inherit them.
    expect(answer.frontOnly).toBeNull();
    expect({ role: answer.role, pid: answer.pid }).toEqual({ role: "worker", pid: worker.pid });
    expect(answer.execArgv).toEqual(expect.arrayContaining(["--max-old-space-size=96", "--stack-size=900"]));
    expect((await fetch(`${worker.baseUrl}/api/front/ping`)).status).toBe(404);
    // The second host reused the first one's broker rather than starting its own.
    expect(runtime.output()).toMatch(/\[host 2\] .*Service Bus: 127\.0\.0\.1:\d+ already listening, reused/);
  });

  it("hands a queue message to the second host, through the first host's broker", async () => {
    const { pid } = await secondHost();
    const sender = client.createSender("work");
    await sender.sendMessages({ body: { n: 1 }, messageId: "work-1" });
    await sender.close();
    await waitUntil(() => handled().length >= 1, 10_000);
    expect(handled()).toEqual([{ message: { n: 1 }, role: "worker", pid }]);
  });

  it("starts the second host again after it is killed, and stops it with the first", async () => {
    const before = await secondHost();
    process.kill(before.pid, "SIGKILL");
    await runtime.waitForOutput(/Host 2 exited unexpectedly \(SIGKILL\); starting it again in \d+ ms/, 10_000);
    const after = await secondHost(2);
    expect(after.pid).not.toBe(before.pid);

    const sender = client.createSender("work");
    await sender.sendMessages({ body: { n: 2 }, messageId: "work-2" });
    await sender.close();
    await waitUntil(() => handled().length >= 2, 10_000);
    expect(handled()[1]).toEqual({ message: { n: 2 }, role: "worker", pid: after.pid });

    expect(await runtime.stop("SIGTERM")).toBe(0);
    expect(isProcessAlive(after.pid)).toBe(false);
    // The second host stopped in order (its own shutdown ran), before the first one's services.
    const out = runtime.output();
    expect(out).toMatch(/\[host 2\] .*Host stopped/);
    expect(out.lastIndexOf("[host 2]")).toBeLessThan(out.lastIndexOf("Host stopped"));
  });

  it("stops the second host when the first dies without stopping it (SIGKILL)", async () => {
    const busPort = await freePort();
    const orphaning = await startRuntime({
      appRoot: copyFixture("roles-app"),
      env: { ServiceBusConnection: `Endpoint=sb://127.0.0.1:${busPort};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;` },
      args: ["--set=APP_ROLE=front", "--with-host=APP_ROLE=worker"],
    });
    await orphaning.waitForOutput(/\[host 2\] .*Host started/, 20_000);
    const pid = Number(orphaning.output().match(/Host 2 starting \(pid (\d+)/)![1]);
    await orphaning.stop("SIGKILL");
    await waitUntil(() => !isProcessAlive(pid), 10_000);
    expect(isProcessAlive(pid)).toBe(false);
  });
});
