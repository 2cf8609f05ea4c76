// Runs a user command (--before hooks, exec) with the runtime's environment and inherited stdio.
import { spawn, type ChildProcess } from "node:child_process";
import { flushLogs } from "./log.js";

export interface CommandRun {
  child: ChildProcess;
  exited: Promise<number>;
}

export function runCommand(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; shell: boolean }): CommandRun {
  // The child writes straight to our stdout/stderr: what we have batched goes first.
  flushLogs();
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: "inherit", shell: options.shell });
  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
  });
  return { child, exited };
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : signal === "SIGKILL" ? 9 : 1;
}
