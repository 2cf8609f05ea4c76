// The parts of host.json the local runtime honours.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export interface HostConfig {
  /** Route prefix for HTTP triggers, without slashes; '' means routes sit at the root. */
  routePrefix: string;
  /** host.json "functions": when present, only these functions are enabled (like the host). */
  functionAllowList: string[] | undefined;
  /** host.json `logging.logLevel` as written (category → level name); see log-levels.ts. */
  logLevel: Record<string, unknown>;
}

interface HostJson {
  functions?: unknown;
  extensions?: { http?: { routePrefix?: unknown } };
  logging?: { logLevel?: unknown };
}

export function readHostConfig(appRoot: string): HostConfig {
  const file = path.join(appRoot, "host.json");
  const json: HostJson = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as HostJson) : {};
  const prefix = json.extensions?.http?.routePrefix;
  return {
    routePrefix: typeof prefix === "string" ? prefix.replace(/^\/+|\/+$/g, "") : "api",
    functionAllowList: Array.isArray(json.functions) ? json.functions.map(String) : undefined,
    logLevel: isRecord(json.logging?.logLevel) ? json.logging.logLevel : {},
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
