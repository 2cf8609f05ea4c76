#!/usr/bin/env node
// `local-runtime start [--before "<cmd>"]... [--set NAME=VALUE]... [--with-host "NAME=VALUE,..."]...` hosts the app
// in the current directory (and, per --with-host, one more host process of it sharing the services);
// `local-runtime exec -- <command> [args...]` runs a one-off command with the same settings and services.
import { LocalRuntime, databaseNameFor, prepareSettings } from "./runtime.js";
import { startBackingServices } from "./backing-services.js";
import { runCommand } from "./child-command.js";
import { parentPidSetting, parseSetting, parseSettings } from "./extra-host.js";
import { enableLogBatching, hostError, watchOutputClosed } from "./log.js";

const usage = `Usage:
  local-runtime start [--before "<shell command>"]... [--set NAME=VALUE]... [--with-host "NAME=VALUE,NAME=VALUE"]...
  local-runtime exec -- <command> [args...]`;

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** A stray error in app code (a timer callback, an un-awaited promise) is logged; the host keeps serving. */
function keepRunningOnStrayErrors(): void {
  process.on("uncaughtException", (error) => hostError("Uncaught exception: %s", describe(error)));
  process.on("unhandledRejection", (reason) => hostError("Unhandled promise rejection: %s", describe(reason)));
}

async function start(args: string[]): Promise<void> {
  const beforeCommands: string[] = [];
  const settings: Record<string, string> = {};
  const extraHosts: Record<string, string>[] = [];
  const valued = ["--before", "--set", "--with-host"];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    // `--option value` or `--option=value`.
    const eq = arg.indexOf("=");
    const option = eq > 0 && valued.includes(arg.slice(0, eq)) ? arg.slice(0, eq) : arg;
    if (!valued.includes(option)) throw new Error(`Unknown argument: ${arg}\n${usage}`);
    const value = option === arg ? args[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new Error(`${option} needs a value\n${usage}`);
    if (option === "--before") beforeCommands.push(value);
    // One NAME=VALUE per --set (its value may hold commas); --with-host takes several, comma-separated.
    else if (option === "--set") Object.assign(settings, parseSetting(value));
    else extraHosts.push(parseSettings(value, "--with-host"));
  }
  keepRunningOnStrayErrors();
  const runtime = new LocalRuntime({ appRoot: process.cwd(), beforeCommands, settings, extraHosts });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      hostError("Second signal: exiting without waiting.");
      process.exit(1);
    }
    void runtime.stop(signal).then(() => process.exit(0));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Nobody reads the output any more (the parent died): an orphaned host would hold its ports forever.
  watchOutputClosed(() => void runtime.stop("output closed").then(() => process.exit(0)));
  // An extra host (--with-host) also stops when its parent is gone though it writes nothing (reparented).
  const parentPid = Number(process.env[parentPidSetting]);
  if (parentPid > 0) {
    const watch = setInterval(() => {
      if (process.ppid === parentPid) return;
      clearInterval(watch);
      // Nobody would kill a shutdown that hangs here: it gets a deadline of its own.
      setTimeout(() => process.exit(1), 30_000).unref();
      void runtime.stop("parent host gone").then(() => process.exit(0));
    }, 1000);
    watch.unref();
  }
  try {
    await runtime.start();
  } catch (error) {
    hostError("Start-up failed: %s", describe(error));
    await runtime.stop("start-up failure");
    process.exit(1);
  }
}

async function exec(args: string[]): Promise<void> {
  const rest = args[0] === "--" ? args.slice(1) : args;
  const [command, ...commandArgs] = rest;
  if (!command) throw new Error(usage);
  const appRoot = process.cwd();
  prepareSettings(appRoot);
  const services = await startBackingServices(appRoot, databaseNameFor(appRoot));
  let code = 1;
  try {
    const run = runCommand(command, commandArgs, { cwd: appRoot, env: process.env, shell: false });
    // The child shares our terminal; forward termination so services still get stopped afterwards.
    const forward = (signal: NodeJS.Signals): void => {
      run.child.kill(signal);
    };
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    code = await run.exited;
  } catch (error) {
    hostError("Command failed to run: %s", describe(error));
  } finally {
    await services.stop();
  }
  process.exit(code);
}

const [commandName, ...args] = process.argv.slice(2);
// Per-invocation log lines are batched per event-loop turn (flushed on exit and before crashes; see log.ts).
enableLogBatching();
const main = commandName === "start" ? start : commandName === "exec" ? exec : undefined;
if (!main) {
  process.stderr.write(`${usage}\n`);
  process.exit(2);
} else {
  main(args).catch((error: unknown) => {
    hostError(describe(error));
    process.exit(1);
  });
}
