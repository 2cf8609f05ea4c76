import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, inject } from "vitest";
import { freePort } from "@ringlet/local-runtime/ports";
import { createTestDatabase, type TestDatabase } from "./database.js";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface RunningApp {
  baseUrl: string;
  /** The settings the runtime was started with (e.g. its ServiceBusConnection). */
  env: Record<string, string>;
  /** Everything the runtime printed so far. */
  output(): string;
  stop(): Promise<void>;
  process: ChildProcess;
}

export interface StartOptions {
  /** Settings that override the sample's (DATABASE_URL is required: a test database's url). */
  env: Record<string, string>;
  /** The function app to host; the repository (the built Ringlet app) by default. */
  appRoot?: string;
  /** Extra node flags, e.g. `--import tsx` for a TypeScript fixture app. */
  nodeArgs?: string[];
  /** Arguments for `local-runtime start`, e.g. `["--set", "APP_ROLE=main", "--with-host", "APP_ROLE=import-worker"]`. */
  runtimeArgs?: string[];
}

/** The local runtime's command line entry (what its `local-runtime` bin runs); `npm run build` makes it. */
function runtimeCli(): string {
  return createRequire(import.meta.url).resolve("@ringlet/local-runtime/cli");
}

/** The runtime stopped at start because a port picked for it was taken in the meantime. */
class PortTakenError extends Error {}

/**
 * Starts the local runtime (`local-runtime start`) as its own process on a free port, against the
 * shared test PostgreSQL and Azurite, and waits until /api/health answers.
 */
export async function startApp(options: StartOptions): Promise<RunningApp> {
  // A port is free when it is picked, not held: another test's process can bind it before the runtime does (seen
  // with four workers: the runtime stopped at start, and an SMS stand-in on its port answered the test's calls). The
  // runtime is then started again on other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startAppOnce(options);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === 3) throw error;
    }
  }
}

async function startAppOnce(options: StartOptions): Promise<RunningApp> {
  const port = await freePort();
  const storage = inject("storageConnectionString");
  // Each app gets its own in-memory Service Bus broker (the runtime starts one for an emulator endpoint),
  // so no two test files ever consume each other's events.
  const busPort = await freePort();
  let output = "";
  const settings: Record<string, string> = {
    PORT: String(port),
    AzureWebJobsStorage: storage,
    BlobStorage: storage,
    ServiceBusConnection: `Endpoint=sb://127.0.0.1:${busPort};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`,
    LOCAL_SERVICEBUS_DATA: "memory",
    // Durable instances stay with the runtime that made them: test files never resume each other's.
    LOCAL_DURABLE_DATA: "memory",
    // Timer schedule status too: runtimes of the app share .local-data/timers, so each start would find most timers
    // past due (another test's runtime ran them a minute ago) and run them all while the test begins.
    LOCAL_TIMER_DATA: "memory",
    LOG_LEVEL: "warn",
    // A cheaper KDF keeps sign-ins fast in tests; the cost itself is tested separately.
    AUTH_SCRYPT_LOG_N: "12",
    ...options.env,
  };
  // --no-opt: a test's runtime lives seconds and serves a few hundred requests; TurboFan's optimizing compiles cost
  // it more CPU than they save (runtime CPU over five HTTP test files: 4.1 s a runtime with, 3.7 s without).
  // --single-threaded-gc: no GC helper threads, which on two cores only contend with the other processes (a start
  // and 50 requests, six each, three rounds: 1.18-1.29 s of CPU against 1.21-1.34 s).
  const child = spawn(process.execPath, ["--no-opt", "--single-threaded-gc", ...(options.nodeArgs ?? []), runtimeCli(), "start", ...(options.runtimeArgs ?? [])], {
    cwd: options.appRoot ?? repoRoot,
    env: { ...process.env, ...settings },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      if (/is already in use/.test(output)) throw new PortTakenError(output);
      throw new Error(`runtime exited with ${child.exitCode}:\n${output}`);
    }
    try {
      const res = await fetch(`${baseUrl}/api/health`);
      // "Host started" comes once the runtime listens on the port: until then an answer is another process's.
      if ((res.status === 200 || res.status === 404) && output.includes("Host started")) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`runtime did not answer within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    baseUrl,
    env: settings,
    output: () => output,
    process: child,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Asserts the answer's status (its body in the message when it differs) and parses its JSON body. */
export async function expectJson<T = Record<string, unknown>>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** Parses a JSON or problem+json body, asserting nothing. */
export async function jsonOf(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

/** The app on a database of the test file's own, with extra settings; `stopAppAndDatabase` ends both. */
export async function startAppOnOwnDatabase(env: Record<string, string> = {}): Promise<{ db: TestDatabase; app: RunningApp }> {
  const db = await createTestDatabase();
  return { db, app: await startApp({ env: { DATABASE_URL: db.url, ...env } }) };
}

export async function stopAppAndDatabase(started: { db?: TestDatabase; app?: RunningApp }): Promise<void> {
  await started.app?.stop();
  await started.db?.drop();
}
