// App settings the way Core Tools hands them to the host: local.settings.json "Values" become environment
// variables, without overriding what the environment already has (so tests and shells can inject settings).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export interface LoadedSettings {
  /** The file used, or undefined when neither local.settings.json nor the sample exists. */
  file: string | undefined;
  /** Names set from the file (those already in the environment are left alone and not listed). */
  applied: string[];
  /** Every value the file holds, for checks such as "does any setting say UseDevelopmentStorage=true". */
  values: Record<string, string>;
}

interface SettingsFile {
  IsEncrypted?: boolean;
  Values?: Record<string, unknown>;
  ConnectionStrings?: Record<string, unknown>;
}

export function loadLocalSettings(appRoot: string, env: NodeJS.ProcessEnv = process.env): LoadedSettings {
  const candidates = ["local.settings.json", "local.settings.sample.json"].map((f) => path.join(appRoot, f));
  const file = candidates.find((f) => existsSync(f));
  if (!file) return { file: undefined, applied: [], values: {} };

  const parsed = JSON.parse(readFileSync(file, "utf8")) as SettingsFile;
  if (parsed.IsEncrypted === true) {
    throw new Error(`${path.basename(file)} is encrypted; decrypt it (func settings decrypt) to run locally.`);
  }
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed.Values ?? {})) values[name] = settingText(value);
  // Core Tools exposes connection strings under "ConnectionStrings:<name>".
  for (const [name, value] of Object.entries(parsed.ConnectionStrings ?? {})) {
    values[`ConnectionStrings:${name}`] = settingText(value);
  }

  const applied: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (env[name] === undefined) {
      env[name] = value;
      applied.push(name);
    }
  }
  return { file, applied, values };
}

function settingText(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Whether `AzureWebJobs.<name>.Disabled` (or the Linux-safe `AzureWebJobs_<name>_Disabled`) is set. */
export function isFunctionDisabled(functionName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[`AzureWebJobs.${functionName}.Disabled`] ?? env[`AzureWebJobs_${functionName}_Disabled`];
  return value !== undefined && /^(true|1)$/i.test(value.trim());
}

export class UnresolvedSettingError extends Error {}

/** Replaces `%NAME%` app-setting references like the host's binding name resolver; unknown names throw. */
export function resolveSettingReferences(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(/%([^%]+)%/g, (_whole, name: string) => {
    const value = env[name];
    if (value === undefined) throw new UnresolvedSettingError(`'%${name}%' does not resolve to a value.`);
    return value;
  });
}

/** Resolves every string option of a binding, leaving the registered metadata untouched. */
export function resolveBinding<T extends Record<string, unknown>>(binding: T, env: NodeJS.ProcessEnv = process.env): T {
  const resolved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(binding)) {
    resolved[key] = typeof value === "string" ? resolveSettingReferences(value, env) : value;
  }
  return resolved as T;
}

/** True when a connection-like setting should be served by the local Azurite. */
export function usesDevelopmentStorage(values: Record<string, string | undefined>): boolean {
  return Object.values(values).some((v) => v !== undefined && /UseDevelopmentStorage\s*=\s*true/i.test(v));
}
