// Durable Functions in the local runtime: the engine, the orchestrationTrigger/activityTrigger trigger modules,
// the durableClient input binding and the HTTP API. The runtime creates one DurableModule per start.
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { hostLog } from "../log.js";
import type { FunctionHost, RegisteredFunction } from "../function-host.js";
import type { Invoker } from "../invoke.js";
import type { TriggerModule } from "../trigger-module.js";
import { DurableEngine } from "./engine.js";
import { creationUrls, handleDurableRequest, managementUrls, webhookPrefix } from "./http-api.js";
import { DirectoryInstanceStore, MemoryInstanceStore, type InstanceStore } from "./store.js";

export { DurableEngine } from "./engine.js";

export interface DurableSettings {
  taskHubName: string;
  /** "memory" or an absolute directory. */
  dataDir: string;
  maxConcurrentActivityFunctions: number;
  maxConcurrentOrchestratorFunctions: number;
}

function resolveReferences(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/%([^%]+)%/g, (whole, name: string) => env[name] ?? whole);
}

/** A positive whole number from host.json, or the extension's default (10 per processor). */
function concurrency(value: unknown): number {
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) && n > 0 ? n : 10 * cpus().length;
}

/**
 * host.json `extensions.durableTask`: `hubName` (`%NAME%` resolved; Core Tools' local default "TestHubName"),
 * `maxConcurrentActivityFunctions` / `maxConcurrentOrchestratorFunctions`; and LOCAL_DURABLE_DATA.
 */
export function readDurableSettings(appRoot: string, env: NodeJS.ProcessEnv = process.env): DurableSettings {
  const file = path.join(appRoot, "host.json");
  const json = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { extensions?: { durableTask?: Record<string, unknown> } }) : {};
  const durableTask = json.extensions?.durableTask ?? {};
  const hub = durableTask.hubName;
  const taskHubName = typeof hub === "string" && hub.trim() !== "" ? resolveReferences(hub, env) : "TestHubName";
  const data = env.LOCAL_DURABLE_DATA;
  const dataDir = data === "memory" ? "memory" : data ? path.resolve(appRoot, data) : path.join(appRoot, ".local-data", "durable");
  return {
    taskHubName,
    dataDir,
    maxConcurrentActivityFunctions: concurrency(durableTask.maxConcurrentActivityFunctions),
    maxConcurrentOrchestratorFunctions: concurrency(durableTask.maxConcurrentOrchestratorFunctions),
  };
}

let active: DurableModule | undefined;

function setActive(module: DurableModule | undefined): void {
  active = module;
}

/** The module of the running runtime (read by the HTTP server for /runtime/webhooks/durabletask/). */
export function activeDurableModule(): DurableModule | undefined {
  return active;
}

export class DurableModule {
  readonly engine: DurableEngine;
  readonly triggers: TriggerModule[];
  readonly settings: DurableSettings;
  #baseUrl = "http://127.0.0.1:7071";
  readonly #connectionName = "Storage";

  constructor(host: FunctionHost, invoker: Invoker, settings: DurableSettings) {
    this.settings = settings;
    const store: InstanceStore = settings.dataDir === "memory" ? new MemoryInstanceStore() : new DirectoryInstanceStore(settings.dataDir);
    const engine = new DurableEngine(host, invoker, {
      store,
      maxConcurrentActivityFunctions: settings.maxConcurrentActivityFunctions,
      maxConcurrentOrchestratorFunctions: settings.maxConcurrentOrchestratorFunctions,
    });
    this.engine = engine;
    const orchestrations: TriggerModule = {
      triggerType: "orchestrationTrigger",
      describe: () => "orchestrationTrigger",
      // POST /admin/functions/{name} with {"input": ...} starts a new instance with that input.
      runAdminInvocation: (fn: RegisteredFunction, input: unknown) => {
        const id = engine.startNew(fn.name, undefined, input);
        hostLog(`Durable Functions: started '${fn.name}' instance '${id}' from the admin API.`);
        return Promise.resolve();
      },
      start: () => {
        engine.start();
        const hasDurable = [...host.functions.values()].some((fn) => /^(orchestration|activity)trigger$/i.test(String(fn.trigger.type)));
        if (hasDurable)
          hostLog(
          `Durable Functions: task hub '${settings.taskHubName}', ${settings.dataDir === "memory" ? "instances kept in memory" : `instances in ${settings.dataDir}`}, ` +
            `up to ${settings.maxConcurrentActivityFunctions} activities and ${settings.maxConcurrentOrchestratorFunctions} orchestrator episodes at once.`,
        );
        return Promise.resolve();
      },
      stop: () => {
        engine.stop();
        return Promise.resolve();
      },
    };
    const activities: TriggerModule = {
      triggerType: "activityTrigger",
      describe: () => "activityTrigger",
      adminInvocation: (fn: RegisteredFunction, input: unknown) => ({
        inputData: [{ name: fn.triggerName, data: { string: JSON.stringify(input ?? null) } }],
      }),
    };
    this.triggers = [orchestrations, activities];
    invoker.registerInputBindingProvider("durableClient", () => ({ json: JSON.stringify(this.clientBinding()) }));
    invoker.registerInputBindingProvider("orchestrationClient", () => ({ json: JSON.stringify(this.clientBinding()) }));
    setActive(this);
  }

  /** Set once the HTTP server listens: `http://127.0.0.1:<port>`. */
  setBaseUrl(baseUrl: string): void {
    this.#baseUrl = baseUrl.replace(/\/+$/, "");
  }

  /** The durableClient binding value the extension gives an out-of-process worker. */
  clientBinding() {
    const hub = this.settings.taskHubName;
    return {
      taskHubName: hub,
      creationUrls: creationUrls(this.#baseUrl, hub, this.#connectionName),
      managementUrls: managementUrls(this.#baseUrl, hub, this.#connectionName, "INSTANCEID"),
      baseUrl: `${this.#baseUrl}/runtime/webhooks/durabletask`,
      requiredQueryStringParameters: "",
      rpcBaseUrl: `${this.#baseUrl}${webhookPrefix}`,
      httpBaseUrl: "",
    };
  }

  handleHttp(pathname: string, method: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    return handleDurableRequest({ engine: this.engine, taskHubName: this.settings.taskHubName, connectionName: this.#connectionName }, pathname, method, url, req, res);
  }

  dispose(): void {
    if (active === this) setActive(undefined);
  }
}
