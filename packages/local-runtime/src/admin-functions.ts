// `GET /admin/functions` and `GET /admin/functions/{name}`: the host's FunctionMetadataResponse
// (azure-functions-host FunctionMetadataExtensions.ToFunctionMetadataResponse) built from the registrations.
import path from "node:path";
import type { RegisteredFunction } from "./function-host.js";

export interface FunctionMetadataResponse {
  name: string;
  /** The function's own folder; worker-indexed (v4 programming model) functions have none, so null as on the host. */
  script_root_path_href: string | null;
  script_href: string | null;
  config_href: string | null;
  test_data_href: string | null;
  href: string;
  /** HTTP triggers only: base URL, route prefix, then the route (or the function name), lower-cased as by the host. */
  invoke_url_template: string | null;
  language: string;
  config: FunctionConfig;
  files: null;
  test_data: null;
  isDisabled: boolean;
  isDirect: boolean;
  isProxy: boolean;
}

/** The host's GetFunctionConfigFromMetadata: bindings are the raw binding JSON the worker registered. */
export interface FunctionConfig {
  name: string;
  entryPoint: string;
  scriptFile: string | null;
  language: string;
  functionDirectory: string | null;
  bindings: Record<string, unknown>[];
}

export interface DescribeOptions {
  /** Scheme and authority the caller used, e.g. http://127.0.0.1:7071 */
  baseUrl: string;
  routePrefix: string;
  appRoot: string;
  disabled: boolean;
}

const language = "node";

/** The raw bindings as the Node worker reports them to the host: each binding with its name added last. */
export function rawBindings(fn: RegisteredFunction): Record<string, unknown>[] {
  return Object.entries(fn.metadata.bindings).map(([name, binding]) => ({ ...binding, name }));
}

export function functionMetadataResponse(fn: RegisteredFunction, options: DescribeOptions): FunctionMetadataResponse {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const scriptFile = fn.scriptFile;
  const relativeScript = scriptFile ? path.relative(options.appRoot, scriptFile).split(path.sep).join("/") : undefined;
  return {
    name: fn.name,
    script_root_path_href: null,
    script_href: relativeScript !== undefined ? `${baseUrl}/admin/vfs/${relativeScript}` : null,
    config_href: null,
    test_data_href: null,
    href: `${baseUrl}/admin/functions/${fn.name}`,
    invoke_url_template: invokeUrlTemplate(fn, baseUrl, options.routePrefix),
    language,
    config: {
      name: fn.name,
      entryPoint: "",
      scriptFile: scriptFile ?? null,
      language,
      functionDirectory: scriptFile ? path.dirname(scriptFile) : null,
      bindings: rawBindings(fn),
    },
    files: null,
    test_data: null,
    isDisabled: options.disabled,
    isDirect: false,
    isProxy: false,
  };
}

/** The host's GetFunctionInvokeUrlTemplate: the registered (unresolved) route, lower-cased like the host does. */
function invokeUrlTemplate(fn: RegisteredFunction, baseUrl: string, routePrefix: string): string | null {
  const trigger = Object.values(fn.metadata.bindings).find(
    (b) => b.direction === "in" && String(b.type).toLowerCase() === "httptrigger",
  );
  if (!trigger) return null;
  const route = (trigger as { route?: unknown }).route;
  let url = baseUrl;
  if (routePrefix !== "") url += `/${routePrefix.replace(/\/+$/, "")}`;
  url += `/${typeof route === "string" && route !== "" ? route : fn.name}`;
  return url.toLowerCase();
}
