// `start --with-host "NAME=VALUE,..."`: one more host process of the same app, with settings of its own, sharing the
// parent's backing services (as a second function app in Azure shares the storage, bus and database of the first).
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { hostError, hostLog, hostOutput } from "./log.js";

/** The Functions host's setting for the language worker's own process arguments, honoured for extra hosts. */
const workerArgumentsSetting = "languageWorkers__node__arguments";

/** Set in an extra host's environment: the parent's pid, so the child stops once the parent is gone. */
export const parentPidSetting = "LOCAL_RUNTIME_PARENT_PID";

/** Parses one `NAME=VALUE` (a --set): the value is everything after the first `=`. */
export function parseSetting(text: string): Record<string, string> {
  const eq = text.indexOf("=");
  const name = eq > 0 ? text.slice(0, eq).trim() : "";
  if (!name) throw new Error(`--set expects NAME=VALUE, got: ${text || "(nothing)"}`);
  return { [name]: text.slice(eq + 1) };
}

/**
 * Parses `NAME=VALUE,NAME=VALUE` (one --with-host). A piece without `=` after a setting continues that setting's
 * value, comma included (`APP_ROLE=a,b,LOG_LEVEL=debug`: a list); a value cannot hold a comma followed by `=` text.
 */
export function parseSettings(text: string, option: string): Record<string, string> {
  const settings: Record<string, string> = {};
  let last: string | undefined;
  for (const pair of text.split(",")) {
    const eq = pair.indexOf("=");
    if (eq < 0 && last !== undefined && pair !== "") {
      settings[last] += `,${pair}`;
      continue;
    }
    const name = eq > 0 ? pair.slice(0, eq).trim() : "";
    if (!name) throw new Error(`${option} expects NAME=VALUE, got: ${pair || "(nothing)"}`);
    settings[name] = pair.slice(eq + 1);
    last = name;
  }
  return settings;
}

/** The extra host's Durable store: never the parent's (two engines would run the same instances). */
export function durableDataFor(parent: string | undefined, hostNumber: number): string {
  if (parent === "memory") return "memory";
  return parent ? `${parent.replace(/[\\/]+$/, "")}-${hostNumber}` : `.local-data/durable-${hostNumber}`;
}

const firstBackoffMs = 1_000;
const maxBackoffMs = 30_000;
/** A host that ran this long before dying is restarted after the first backoff again. */
const healthyRunMs = 60_000;
/** How long stop() waits after SIGTERM (the host drains its invocations for up to 10 s, then stops) before SIGKILL. */
const stopTimeoutMs = 20_000;

export interface ExtraHostOptions {
  appRoot: string;
  /** 2 for the first extra host: the parent is host 1. */
  hostNumber: number;
  settings: Record<string, string>;
  /** The parent's --set names with what they held before it set them: not inherited (undefined: unset). */
  parentOnly?: Record<string, string | undefined>;
}

/** Runs `node <cli> start` as a supervised child: output prefixed, restarted after a crash, stopped with the parent. */
export class ExtraHost {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stopping = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #backoffMs = firstBackoffMs;
  readonly #prefix: string;

  constructor(private readonly options: ExtraHostOptions) {
    this.#prefix = `[host ${options.hostNumber}] `;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the child with the parent's environment as it is now (the backing services' settings included). */
  start(): void {
    if (this.#stopping) return;
    const { appRoot, hostNumber, settings } = this.options;
    const inherited: NodeJS.ProcessEnv = { ...process.env };
    for (const [name, before] of Object.entries(this.options.parentOnly ?? {})) {
      if (before === undefined) delete inherited[name];
      else inherited[name] = before;
    }
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      PORT: "0",
      LOCAL_DURABLE_DATA: durableDataFor(process.env.LOCAL_DURABLE_DATA, hostNumber),
      ...settings,
      [parentPidSetting]: String(process.pid),
    };
    const cli = fileURLToPath(new URL("./cli.js", import.meta.url));
    // Its own process group: a Ctrl-C in the terminal reaches the parent only, which then stops the child in order.
    // The parent's node flags (e.g. --cpu-prof, --import), but not its debugger's port (taken) or a break at start.
    const nodeArgs = process.execArgv.filter((arg) => !arg.startsWith("--inspect"));
    // languageWorkers__node__arguments: the node flags the Functions host starts the worker with (e.g. a heap cap).
    const workerArgs = (settings[workerArgumentsSetting] ?? "").split(/\s+/).filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, ...workerArgs, cli, "start"], { cwd: appRoot, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    this.#child = child;
    const startedAt = Date.now();
    hostLog(`Host ${hostNumber} starting (pid ${child.pid ?? "?"}; ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(", ")}).`);
    for (const [stream, target] of [[child.stdout, "stdout"], [child.stderr, "stderr"]] as const) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => hostOutput(target, `${this.#prefix}${line}\n`));
    }
    this.#exited = new Promise<void>((resolve) => {
      child.once("error", (error) => {
        hostError(`Host ${hostNumber} could not be started: ${error.message}`);
        resolve();
      });
      child.once("exit", (code, signal) => {
        resolve();
        if (this.#stopping) return;
        if (Date.now() - startedAt >= healthyRunMs) this.#backoffMs = firstBackoffMs;
        const delay = this.#backoffMs;
        this.#backoffMs = Math.min(this.#backoffMs * 2, maxBackoffMs);
        hostError(`Host ${hostNumber} exited unexpectedly (${signal ?? `exit code ${code}`}); starting it again in ${delay} ms.`);
        this.#restartTimer = setTimeout(() => this.start(), delay);
      });
    });
  }

  /** SIGTERM, then waits for it to drain and stop; SIGKILL if it does not in time. Idempotent (a second SIGTERM would make the child exit without draining). */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  #stopped: Promise<void> | undefined;

  async #stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      this.#exited.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), stopTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (!stopped) {
      hostError(`Host ${this.options.hostNumber} did not stop within ${stopTimeoutMs} ms; killing it.`);
      child.kill("SIGKILL");
      await this.#exited;
    }
  }
}
