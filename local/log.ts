// One place that formats runtime output, so tests and people can grep stable prefixes.
import { format } from 'node:util';
import type { RpcLogLevel } from './core-types.js';

const debugEnabled = /^(1|true)$/i.test(process.env.LOCAL_RUNTIME_DEBUG ?? '');

function stamp(): string {
  return new Date().toISOString();
}

export function hostLog(message: string, ...args: unknown[]): void {
  process.stdout.write(`[${stamp()}] ${format(message, ...args)}\n`);
}

export function hostWarn(message: string, ...args: unknown[]): void {
  process.stdout.write(`[${stamp()}] WARNING: ${format(message, ...args)}\n`);
}

export function hostError(message: string, ...args: unknown[]): void {
  process.stderr.write(`[${stamp()}] ERROR: ${format(message, ...args)}\n`);
}

export function hostDebug(message: string, ...args: unknown[]): void {
  if (debugEnabled) process.stdout.write(`[${stamp()}] DEBUG: ${format(message, ...args)}\n`);
}

/** Lines written through context.log/warn/error, prefixed with the function name like `func start` does. */
export function functionLog(functionName: string, level: RpcLogLevel, message: string): void {
  if (level === 'none') return;
  if ((level === 'trace' || level === 'debug') && !debugEnabled) return;
  const tag = level === 'information' ? '' : ` ${level.toUpperCase()}:`;
  process.stdout.write(`[${stamp()}] [${functionName}]${tag} ${message}\n`);
}

/** System messages the library sends through coreApi.log (warnings about bad async code, streaming setup...). */
export function systemLog(level: RpcLogLevel, message: string): void {
  if (level === 'error' || level === 'critical') hostError(message);
  else if (level === 'warning') hostWarn(message);
  else if (level === 'information') hostLog(message);
  else hostDebug(message);
}
