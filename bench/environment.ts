// What every benchmark needs: embedded PostgreSQL (migrated), Azurite, and the app on the local runtime.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { SignJWT } from "jose";
import type postgres from "postgres";
import { v7 as uuidv7 } from "uuid";
import { startAzurite } from "@ringlet/local-runtime/azurite";
import { freePort } from "@ringlet/local-runtime/ports";
import { startEmbeddedPostgres } from "@ringlet/local-runtime/postgres";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The local runtime's command line entry (what its `local-runtime` bin runs), built by `npm run build`. */
export const runtimeCli = createRequire(import.meta.url).resolve("@ringlet/local-runtime/cli");

export interface BenchEnvironment {
  databaseUrl: string;
  /** Settings every server of the run gets. */
  env: Record<string, string>;
  /**
   * Starts a node process (cwd = repo root) on a free port and waits until `readyPath` answers 2xx. Its stderr
   * is passed through, and also to `onStderr` when given (e.g. to count the errors a run logged).
   */
  serve(args: string[], readyPath: string, env?: Record<string, string>, options?: { onStderr?: (text: string) => void }): Promise<string>;
  /** The pid of the process serve() started at `base`. */
  pidOf(base: string): number | undefined;
  /** PostgreSQL's postmaster (its backends are its children: see processCpuMs). */
  postgresPid: number | undefined;
  close(): Promise<void>;
}

async function migrate(databaseUrl: string): Promise<void> {
  const child = spawn(process.execPath, ["dist/functions/platform/commands/migrate.js"], { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: "inherit" });
  await new Promise((resolve, reject) => child.on("exit", (code) => (code === 0 ? resolve(null) : reject(new Error("migrate failed")))));
}

/**
 * A stopped, migrated PostgreSQL cluster in `dataDir`. `npm run bench` makes one before the first bench and
 * passes it on as BENCH_PG_TEMPLATE: each bench then starts from a copy instead of running initdb and the
 * migrations again (seconds per bench, none of them measured).
 */
export async function preparePostgresTemplate(dataDir: string): Promise<void> {
  const pg = await startEmbeddedPostgres({ dataDir, database: "ringlet_bench" });
  try {
    await migrate(pg.url);
  } finally {
    await pg.stop();
  }
}

async function privateBroker(): Promise<Record<string, string>> {
  const port = await freePort();
  return {
    ServiceBusConnection: `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`,
    LOCAL_SERVICEBUS_DATA: "memory",
    LOCAL_DURABLE_DATA: "memory",
  };
}

export async function benchEnvironment(): Promise<BenchEnvironment> {
  const dir = await mkdtemp(join(tmpdir(), "ringlet-bench-"));
  await chmod(dir, 0o755);
  const template = process.env.BENCH_PG_TEMPLATE;
  // cp -a keeps the owner: as root the cluster belongs to the OS user "postgres" that runs the server.
  if (template) await promisify(execFile)("cp", ["-a", template, join(dir, "pg")]);
  const [pg, azurite] = await Promise.all([
    startEmbeddedPostgres({ dataDir: join(dir, "pg"), database: "ringlet_bench" }),
    startAzurite({ location: "memory", blobPort: 0, queuePort: 0, tablePort: 0 }),
  ]);
  const children: ChildProcess[] = [];
  const pids = new Map<string, number>();
  const env = { DATABASE_URL: pg.url, BlobStorage: azurite.connectionString, AzureWebJobsStorage: azurite.connectionString, LOG_LEVEL: "warn" };
  if (!template) await migrate(pg.url);

  return {
    databaseUrl: pg.url,
    env,
    async serve(args, readyPath, extra = {}, options = {}) {
      const port = await freePort();
      // Each runtime gets a broker of its own, in memory, on a free port: the default one (port 5672, its log under
      // .local-data) is the developer's, carries earlier runs' messages and duplicate-detection history, and made
      // the same bench 2-6x slower depending on what ran before it.
      const ownBroker = extra.ServiceBusConnection === undefined ? await privateBroker() : {};
      const child = spawn(process.execPath, args, {
        cwd: root,
        env: { ...process.env, ...env, ...ownBroker, ...extra, PORT: String(port) },
        stdio: ["ignore", "ignore", options.onStderr ? "pipe" : "inherit"],
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        process.stderr.write(chunk);
        options.onStderr?.(chunk.toString());
      });
      children.push(child);
      const base = `http://127.0.0.1:${port}`;
      if (child.pid !== undefined) pids.set(base, child.pid);
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`${args.join(" ")} exited with ${child.exitCode}`);
        try {
          if ((await fetch(`${base}${readyPath}`)).ok) return base;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${args.join(" ")} did not answer ${readyPath}`);
    },
    pidOf: (base) => pids.get(base),
    postgresPid: pg.pid,
    async close() {
      for (const c of children) c.kill("SIGTERM");
      await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))));
      await Promise.allSettled([azurite.stop(), pg.stop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * User + system CPU time in ms that process `pid` has used (with `children`, plus that of its live and reaped
 * children: PostgreSQL's backends), from Linux /proc at the usual 100 ticks/s; undefined elsewhere. CPU per
 * request is what a shared, busy machine distorts least.
 */
export function processCpuMs(pid: number | undefined, children = false): number | undefined {
  if (pid === undefined) return undefined;
  const fields = (p: number | string) => {
    const stat = readFileSync(`/proc/${p}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  };
  try {
    const own = fields(pid);
    let ticks = Number(own[11]) + Number(own[12]) + (children ? Number(own[13]) + Number(own[14]) : 0);
    if (children) {
      for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          const f = fields(entry);
          if (Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
        } catch {
          // ended while we looked
        }
      }
    }
    return ticks * 10;
  } catch {
    return undefined;
  }
}

/** Prints rows as an aligned text table. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** The sample settings' HS256 key and names: benches mint access tokens as the app would sign them. */
const sample = JSON.parse(readFileSync(join(root, "local.settings.sample.json"), "utf8")) as { Values: Record<string, string> };
export const sampleAuth = {
  AUTH_JWT_ALGORITHM: "HS256",
  AUTH_JWT_SECRET: sample.Values.AUTH_JWT_SECRET as string,
  AUTH_JWT_ISSUER: sample.Values.AUTH_JWT_ISSUER as string,
  AUTH_JWT_AUDIENCE: sample.Values.AUTH_JWT_AUDIENCE as string,
};
const signingKey = new TextEncoder().encode(sampleAuth.AUTH_JWT_SECRET);

/** An access token for `userId` with no `sid` claim: sessions are only checked when a token names one. */
export const mintAccessToken = (userId: string): Promise<string> =>
  new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuer(sampleAuth.AUTH_JWT_ISSUER)
    .setAudience(sampleAuth.AUTH_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime("30m")
    .sign(signingKey);

/** One API call with a bearer token and a fresh Idempotency-Key; anything but 2xx throws. */
export async function benchApi(base: string, method: string, path: string, token: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "idempotency-key": randomUUID(), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * One figure of a bench, as `npm run bench` collects it into bench/results.json. `ratio` is value / floor
 * when the figure has a floor measured in the same run; `met` is whether `target` holds (null: no target).
 */
export interface BenchResult {
  bench: string;
  measure: string;
  value: number;
  unit: string;
  floor: number | null;
  ratio: number | null;
  target: string;
  met: boolean | null;
}

/**
 * What a bench reports for one figure. `target` is a comparison: `">= 1000"`, `"< 15"`, `"= 0"` test the value;
 * a trailing `x` (`">= 0.8x"`) tests the ratio to `floor`; omitted or `""` means reported without a verdict.
 */
export interface BenchFigure {
  measure: string;
  value: number;
  unit: string;
  floor?: number | null;
  target?: string;
}

const TARGET = /^\s*(>=|<=|>|<|=)\s*(-?\d+(?:\.\d+)?)\s*(x?)\s*$/;

/** Whether a figure meets its target: true, false, or null when it has none (or a ratio target has no floor). */
export function verdict(figure: BenchFigure): boolean | null {
  if (!figure.target) return null;
  const m = TARGET.exec(figure.target);
  if (!m) throw new Error(`target ${JSON.stringify(figure.target)} of ${figure.measure}: expected e.g. ">= 1000", "< 15", "= 0" or ">= 0.8x"`);
  const [, op, bound, ofFloor] = m as unknown as [string, string, string, string];
  const subject = ofFloor ? (figure.floor ? figure.value / figure.floor : null) : figure.value;
  if (subject === null || !Number.isFinite(subject)) return ofFloor ? null : false;
  const b = Number(bound);
  return op === ">=" ? subject >= b : op === "<=" ? subject <= b : op === ">" ? subject > b : op === "<" ? subject < b : subject === b;
}

/**
 * Every bench ends with this: prints one verdict line per figure and, when `BENCH_RESULTS_FILE` is set (as
 * `npm run bench` sets it), writes the figures there as a JSON array of BenchResult (replacing the file).
 */
export function recordResults(bench: string, figures: BenchFigure[]): BenchResult[] {
  const rows = figures.map((f): BenchResult => {
    const floor = f.floor ?? null;
    return { bench, measure: f.measure, value: f.value, unit: f.unit, floor, ratio: floor ? f.value / floor : null, target: f.target ?? "", met: verdict(f) };
  });
  const shown = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) >= 100 ? 0 : 2));
  console.log(`\nbench/${bench} verdicts:`);
  printTable(
    ["measure", "value", "floor", "ratio", "target", "verdict"],
    rows.map((r) => [r.measure, `${shown(r.value)} ${r.unit}`, r.floor === null ? "-" : shown(r.floor), r.ratio === null ? "-" : `${r.ratio.toFixed(2)}x`, r.target || "-", r.met === null ? "-" : r.met ? "met" : "NOT MET"]),
  );
  const file = process.env.BENCH_RESULTS_FILE;
  if (file) writeFileSync(file, `${JSON.stringify(rows, null, 2)}\n`);
  return rows;
}

/**
 * Inserts n users (1,000 a statement) and answers their ids. Confirmed addresses: an unconfirmed learner may not
 * enroll (AUTH_UNVERIFIED_ACCESS=browse, the default).
 */
export async function insertUsers(sql: postgres.Sql, n: number, label: string, admin = false): Promise<string[]> {
  const rows = Array.from({ length: n }, (_, i) => {
    const id = uuidv7();
    return { id, email: `${label}-${i}-${id.slice(-12)}@example.test`, display_name: `${label} ${i}`, is_admin: admin, email_verified_at: new Date().toISOString() };
  });
  for (let i = 0; i < rows.length; i += 1_000) await sql`insert into users ${sql(rows.slice(i, i + 1_000), "id", "email", "display_name", "is_admin", "email_verified_at")}`;
  return rows.map((r) => r.id);
}

/** What the app's sessions are doing (state, wait, statement), counted over samples: where a request waits. */
export function sampleSessions(sql: postgres.Sql) {
  const seen = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const rows = await sql<{ what: string }[]>`
        select state || ' / ' || coalesce(wait_event_type || ':' || wait_event, '-') || ' / ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 70) as what
        from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`;
      for (const r of rows) seen.set(r.what, (seen.get(r.what) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

export function printSamples(seen: Map<string, number>, what = "during the burst") {
  const total = [...seen.values()].reduce((a, b) => a + b, 0);
  console.log(`\nPostgreSQL sessions (${what}) (${total} session samples):`);
  printTable(
    ["share", "state / wait / statement"],
    [...seen].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([what, n]) => [`${((100 * n) / total).toFixed(1)}%`, what]),
  );
}

/** Polls `count` every 50 ms until it reaches `wanted` or `deadlineSeconds` after `t0`; ms from `t0` (NaN when it never did). */
export async function until(t0: number, deadlineSeconds: number, wanted: number, count: () => Promise<number>): Promise<{ ms: number; reached: number }> {
  const deadline = t0 + deadlineSeconds * 1000;
  let reached = 0;
  while (performance.now() < deadline) {
    reached = await count();
    if (reached >= wanted) return { ms: performance.now() - t0, reached };
    await new Promise((r) => setTimeout(r, 50));
  }
  return { ms: NaN, reached };
}

/** Runs `fn` over `items`, `width` at a time. */
export async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}
