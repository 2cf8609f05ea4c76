// Starts the built local runtime (dist/cli.js) as a child process against a copy of a fixture app.
// Assumes the package was built before vitest (`npm run build`; `npm test` does).
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";
import { freePort } from "../src/services/ports.js";

export { freePort };

const packageRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
export const cliPath = path.join(packageRoot, "dist/cli.js");
const fixtures = path.join(packageRoot, "test/fixtures");

if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run "npm run build" before the tests.`);

/** Where the fixture apps' packages are installed: this package's node_modules, or the one up the tree npm hoisted them to. */
function installedPackages(): string {
  for (let dir = packageRoot; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules");
    if (existsSync(path.join(candidate, "@azure", "functions"))) return candidate;
    if (path.dirname(dir) === dir) throw new Error('@azure/functions is not installed: run "npm install".');
  }
}

const copies: string[] = [];
afterAll(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A private copy of a fixture app from test/fixtures (its .local-data stays out of the repository) that resolves
 * its packages from ours.
 */
export function copyFixture(name = "local-app"): string {
  const dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  copies.push(dir);
  // mkdtemp makes 0700 directories; PostgreSQL runs as another OS user and must traverse into .local-data.
  chmodSync(dir, 0o755);
  cpSync(path.join(fixtures, name), dir, { recursive: true });
  symlinkSync(installedPackages(), path.join(dir, "node_modules"), "dir");
  return dir;
}

export interface RunningRuntime {
  baseUrl: string;
  child: ChildProcess;
  appRoot: string;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startRuntime(opts: {
  appRoot: string;
  env?: Record<string, string>;
  args?: string[];
  readyPattern?: RegExp;
  timeoutMs?: number;
}): Promise<RunningRuntime> {
  const port = await freePort();
  const child = spawn(process.execPath, [cliPath, "start", ...(opts.args ?? [])], {
    cwd: opts.appRoot,
    env: { ...process.env, PORT: String(port), ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  exited.then(() => listeners.forEach((l) => l())).catch(() => undefined);

  const waitForOutput = (pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = text.match(pattern);
        if (match) {
          cleanup();
          resolve(match);
        } else if (child.exitCode !== null) {
          cleanup();
          reject(new Error(`runtime exited (${child.exitCode}) before ${pattern}:\n${text}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${pattern}:\n${text}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  const runtime: RunningRuntime = {
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    appRoot: opts.appRoot,
    output: () => text,
    waitForOutput,
    stop: (signal = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
  try {
    await waitForOutput(opts.readyPattern ?? /Host started/, opts.timeoutMs ?? 20_000);
  } catch (error) {
    await runtime.stop("SIGKILL");
    throw error;
  }
  return runtime;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Direct children of a process, from /proc (Linux). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

export async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error("condition not met in time");
}
