// Makes `require('@azure/functions-core')` resolve to our stand-in. Only the Node worker provides that
// module; without it @azure/functions switches to "test mode" and registers nothing.
import Module from "node:module";
import type { FunctionHost } from "./function-host.js";

const coreModuleName = "@azure/functions-core";
/** Reported as the worker version; the library only checks that `log` exists (host >= 4.28). */
export const workerVersion = "3.10.1";

interface ModuleInternals {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
}

let installed: FunctionHost | undefined;

/**
 * Installs the stand-in once per process. Must run before @azure/functions is first loaded, because the
 * library resolves the core module lazily but caches the answer (including "not found").
 */
export function installCoreModule(host: FunctionHost): void {
  if (installed) {
    if (installed !== host) throw new Error("The @azure/functions-core stand-in is already bound to another host.");
    return;
  }
  installed = host;
  const api = host.coreApi(workerVersion);
  const internals = Module as unknown as ModuleInternals;
  const originalLoad = internals._load;
  // Module._load is the one funnel every CommonJS require() goes through, whichever copy of the library asks.
  internals._load = function load(request: string, parent: unknown, isMain: boolean): unknown {
    if (request === coreModuleName) return api;
    return originalLoad.call(this, request, parent, isMain);
  };
}
