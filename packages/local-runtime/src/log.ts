// One place that formats runtime output, so tests and people can grep stable prefixes.
//
// Under load every invocation writes two lines (Executing/Executed); two synchronous writes per request cost
// more than the request itself. With `enableLogBatching()` (the CLI turns it on) lines are collected and written
// in one go once the current turn of the event loop is done (setImmediate), or at once when the batch grows
// large. Order is kept: anything else written through process.stdout/stderr (console.log in app code, other
// writers) first flushes what is pending, errors are written at once, and the batch is flushed on exit, before
// an uncaught exception is reported, and before a child process with inherited stdio starts (`flushLogs`).
import { format } from "node:util";
import type { RpcLogLevel } from "./core-types.js";

/** LOCAL_RUNTIME_DEBUG=1: debug and trace lines of the host and of every function, whatever host.json says. */
export const debugEnabled = /^(1|true)$/i.test(process.env.LOCAL_RUNTIME_DEBUG ?? "");

type Target = "stdout" | "stderr";
type RawWrite = (chunk: string) => boolean;

/** Flushed right away past this many pending characters. */
const maxPendingChars = 64 * 1024;

let batching = false;
/** Pending text, as consecutive runs per stream (stdout/stderr alternate rarely). */
const pending: { target: Target; text: string }[] = [];
let pendingChars = 0;
let flushScheduled = false;
const rawWrite: Record<Target, RawWrite> = {
  stdout: (chunk) => process.stdout.write(chunk),
  stderr: (chunk) => process.stderr.write(chunk),
};
let outputClosed = false;

/**
 * Calls `onClosed` once when whoever reads the host's output goes away (EPIPE: a parent that died, a closed
 * terminal pipe). From then on nothing is written: each failed write would raise an error whose report is one
 * more failed write, a loop that once kept orphaned hosts at full CPU, deaf to SIGTERM.
 */
export function watchOutputClosed(onClosed: () => void): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") return;
      if (outputClosed) return;
      outputClosed = true;
      pending.splice(0);
      pendingChars = 0;
      rawWrite.stdout = () => false;
      rawWrite.stderr = () => false;
      onClosed();
    });
  }
}

let lastStampMs = -1;
let lastStamp = "";

function stamp(): string {
  const now = Date.now();
  if (now !== lastStampMs) {
    lastStampMs = now;
    lastStamp = new Date(now).toISOString();
  }
  return lastStamp;
}

/** Writes everything pending, synchronously (process.stdout/stderr writes are synchronous for files and pipes on POSIX). */
export function flushLogs(): void {
  if (pending.length === 0) return;
  const runs = pending.splice(0);
  pendingChars = 0;
  for (const run of runs) rawWrite[run.target](run.text);
}

function scheduledFlush(): void {
  flushScheduled = false;
  flushLogs();
}

function emit(target: Target, line: string): void {
  if (!batching) {
    rawWrite[target](line);
    return;
  }
  const last = pending[pending.length - 1];
  if (last?.target === target) last.text += line;
  else pending.push({ target, text: line });
  pendingChars += line.length;
  if (pendingChars >= maxPendingChars) flushLogs();
  else if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(scheduledFlush);
  }
}

/**
 * Turns batching on for this process (idempotent). Wraps process.stdout.write and process.stderr.write so that
 * every other writer flushes the batch first, keeping the interleaving exactly as if nothing were batched.
 */
export function enableLogBatching(): void {
  if (batching) return;
  batching = true;
  for (const target of ["stdout", "stderr"] as const) {
    const stream = process[target];
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    rawWrite[target] = (chunk) => original(chunk);
    stream.write = function write(this: unknown, ...args: unknown[]): boolean {
      if (outputClosed) return false;
      flushLogs();
      return original(...args);
    } as typeof stream.write;
  }
  process.on("exit", flushLogs);
  // Runs before Node prints an uncaught exception (and before any 'uncaughtException' handler).
  process.on("uncaughtExceptionMonitor", flushLogs);
}

/** util.format, skipped when it could not change the text (it still turns "%%" into "%" without arguments). */
function fmt(message: string, args: unknown[]): string {
  return args.length === 0 && !message.includes("%") ? message : format(message, ...args);
}

/** Text already formatted elsewhere (an extra host's lines, prefixed), batched with the rest. */
export function hostOutput(target: Target, text: string): void {
  emit(target, text);
}

export function hostLog(message: string, ...args: unknown[]): void {
  emit("stdout", `[${stamp()}] ${fmt(message, args)}\n`);
}

export function hostWarn(message: string, ...args: unknown[]): void {
  emit("stdout", `[${stamp()}] WARNING: ${fmt(message, args)}\n`);
}

/** Errors are written at once (after whatever is pending), so they are out even if the process dies next. */
export function hostError(message: string, ...args: unknown[]): void {
  flushLogs();
  rawWrite.stderr(`[${stamp()}] ERROR: ${fmt(message, args)}\n`);
}

/** Like hostError, batched: for per-invocation failures ("Executed ... (Failed ...)"), which can be frequent. */
export function hostErrorBatched(message: string): void {
  emit("stderr", `[${stamp()}] ERROR: ${fmt(message, [])}\n`);
}

export function hostDebug(message: string, ...args: unknown[]): void {
  if (debugEnabled) emit("stdout", `[${stamp()}] DEBUG: ${fmt(message, args)}\n`);
}

/**
 * Lines written through context.log/warn/error, prefixed with the function name like `func start` does.
 * The caller has applied host.json's log levels (invoke.ts).
 */
export function functionLog(functionName: string, level: RpcLogLevel, message: string): void {
  if (level === "none") return;
  const tag = level === "information" ? "" : ` ${level.toUpperCase()}:`;
  emit("stdout", `[${stamp()}] [${functionName}]${tag} ${message}\n`);
}

/** System messages the library sends through coreApi.log (warnings about bad async code, streaming setup...). */
export function systemLog(level: RpcLogLevel, message: string): void {
  if (level === "error" || level === "critical") hostError(message);
  else if (level === "warning") hostWarn(message);
  else if (level === "information") hostLog(message);
  else hostDebug(message);
}
