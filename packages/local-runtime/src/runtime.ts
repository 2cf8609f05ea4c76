// Start-up and shutdown of the local host: settings → services → --before commands → app → triggers.
import path from "node:path";
import { readFileSync, existsSync } from "node:fs";
import { FunctionHost, type RegisteredFunction } from "./function-host.js";
import { installCoreModule } from "./core-module.js";
import { loadApp, readPackageJson } from "./app-loader.js";
import { Invoker } from "./invoke.js";
import { readHostConfig } from "./host-json.js";
import { LogLevelFilter } from "./log-levels.js";
import { isFunctionDisabled, loadLocalSettings, resolveBinding } from "./settings.js";
import { startBackingServices, localDataDir, type RunningServices } from "./backing-services.js";
import { holdPort, type HeldPort } from "./services/ports.js";
import { HttpRouteTable } from "./http-routes.js";
import { LocalHttpServer } from "./http-server.js";
import { TimerTriggerModule } from "./timer-trigger.js";
import { ScheduleStatusStore } from "./timer-schedule-store.js";
import { runCommand } from "./child-command.js";
import { ExtraHost } from "./extra-host.js";
import { hostError, hostLog, hostWarn } from "./log.js";
import type { TriggerModule } from "./trigger-module.js";
import { ServiceBusTriggerModule, readServiceBusHostOptions } from "./servicebus/trigger.js"; // Service Bus
// --- Durable ---
import { DurableModule, readDurableSettings } from "./durable/index.js";
// --- end Durable ---

export const hostVersion = "4.1000.0-local";
const allMethods = "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS";

export interface StartOptions {
  appRoot: string;
  beforeCommands: string[];
  /** How long shutdown waits for in-flight invocations. */
  drainTimeoutMs?: number;
  /** `--set`: settings for this host, winning over local.settings (environment-style). */
  settings?: Record<string, string>;
  /** `--with-host`: one more host process of the app per entry, with these settings, sharing the services. */
  extraHosts?: Record<string, string>[];
}

/** Reads settings into the environment and says which file was used. */
export function prepareSettings(appRoot: string): void {
  const settings = loadLocalSettings(appRoot);
  if (settings.file) hostLog(`Using app settings from ${path.basename(settings.file)} (${settings.applied.length} applied, environment wins).`);
  else hostWarn("No local.settings.json or local.settings.sample.json found; using the environment only.");
  process.env.AZURE_FUNCTIONS_ENVIRONMENT ??= "Development";
}

/** The database an embedded PostgreSQL creates: the app's package name, so the runtime stays app-agnostic. */
export function databaseNameFor(appRoot: string): string {
  const name = String(readPackageJson(appRoot).name ?? "app");
  return name.replace(/^@[^/]+\//, "").replace(/[^A-Za-z0-9_]/g, "_").toLowerCase() || "app";
}

export function httpPort(appRoot: string): number {
  if (process.env.PORT) return Number(process.env.PORT);
  // Core Tools also honours "Host": { "LocalHttpPort" } in local.settings.json.
  const file = path.join(appRoot, "local.settings.json");
  if (existsSync(file)) {
    const port = (JSON.parse(readFileSync(file, "utf8")) as { Host?: { LocalHttpPort?: unknown } }).Host?.LocalHttpPort;
    if (typeof port === "number") return port;
  }
  return 7071;
}

export class LocalRuntime {
  readonly host = new FunctionHost(hostVersion);
  readonly invoker = new Invoker(this.host);
  readonly triggers: TriggerModule[] = [];
  #services: RunningServices | undefined;
  #reservation: HeldPort | undefined;
  #server: LocalHttpServer | undefined;
  #appStarted = false;
  #stopping: Promise<void> | undefined;
  #aborted = false;
  #durable: DurableModule | undefined; // --- Durable ---
  readonly #extraHosts: ExtraHost[] = [];

  constructor(private readonly options: StartOptions) {}

  async start(): Promise<void> {
    const { appRoot } = this.options;
    // --set is this host's: the extra hosts get what these names held before (see ExtraHostOptions.parentOnly).
    const parentOnly = Object.fromEntries(Object.keys(this.options.settings ?? {}).map((name) => [name, process.env[name]]));
    Object.assign(process.env, this.options.settings);
    prepareSettings(appRoot);
    this.#checkAborted();

    // The HTTP port is held from the start: a backing service taking any free port cannot be handed it, and a
    // port already in use fails start-up before PostgreSQL and the rest are started.
    const reservation = await holdPort(httpPort(appRoot), "127.0.0.1");
    this.#reservation = reservation;
    const port = reservation.port;

    this.#services = await startBackingServices(appRoot, databaseNameFor(appRoot), process.env, { httpPort: port });
    this.#checkAborted();

    for (const command of this.options.beforeCommands) {
      hostLog(`Running before start: ${command}`);
      const code = await runCommand(command, [], { cwd: appRoot, env: process.env, shell: true }).exited;
      if (code !== 0) throw new Error(`The --before command failed with exit code ${code}: ${command}`);
      this.#checkAborted();
    }

    // The extra hosts start now, with the services' settings in the environment, and load alongside this one.
    for (const [i, settings] of (this.options.extraHosts ?? []).entries()) {
      const extra = new ExtraHost({ appRoot, hostNumber: i + 2, settings, parentOnly });
      this.#extraHosts.push(extra);
      extra.start();
    }

    installCoreModule(this.host);
    await loadApp(this.host, appRoot);
    await this.host.runHooks("appStart", this.host.appHookContext({ functionAppDirectory: appRoot }));
    this.#appStarted = true;
    this.host.indexingLocked = true;
    const streamingProxyUri = await this.#capabilities();
    this.#checkAborted();

    const hostConfig = readHostConfig(appRoot);
    this.invoker.setLogLevels(new LogLevelFilter(hostConfig.logLevel, (message) => hostWarn(message)));
    const routes = new HttpRouteTable(hostConfig.routePrefix);
    // LOCAL_TIMER_DATA: "memory" (tests: no run is past due at start, whatever other runtimes of the app did) or a folder.
    const timerData = process.env.LOCAL_TIMER_DATA;
    const timerDir = timerData === "memory" ? "memory" : timerData ? path.resolve(appRoot, timerData) : path.join(localDataDir(appRoot), "timers");
    const timers = new TimerTriggerModule(this.invoker, new ScheduleStatusStore(timerDir));
    this.triggers.push(timers);
    const serviceBus = new ServiceBusTriggerModule(this.invoker, readServiceBusHostOptions(appRoot)); // Service Bus
    this.triggers.push(serviceBus);
    // --- Durable: orchestrationTrigger/activityTrigger, the durableClient binding, /runtime/webhooks/durabletask ---
    const durable = new DurableModule(this.host, this.invoker, readDurableSettings(appRoot));
    this.#durable = durable;
    this.triggers.push(...durable.triggers);
    // --- end Durable ---
    const listing: string[] = [];
    const baseUrl = `http://127.0.0.1:${port}`;
    const isDisabled = (fn: RegisteredFunction): boolean =>
      isFunctionDisabled(fn.name) || (hostConfig.functionAllowList !== undefined && !hostConfig.functionAllowList.includes(fn.name));

    for (const fn of this.host.functions.values()) {
      const type = String(fn.trigger.type);
      const disabled = isDisabled(fn);
      let resolved: Record<string, unknown>;
      try {
        resolved = resolveBinding(fn.trigger);
      } catch (error) {
        hostError(`The '${fn.name}' function is in error: ${error instanceof Error ? error.message : String(error)}`);
        listing.push(`${fn.name}: ${type} (in error)`);
        continue;
      }
      const suffix = disabled ? " (disabled)" : "";
      if (type.toLowerCase() === "httptrigger") {
        const route = routes.add(fn, resolved, disabled);
        if (route) listing.push(`${fn.name}: [${route.methods?.join(",") ?? allMethods}] ${baseUrl}${routes.pathOf(route)}${suffix}`);
        else listing.push(`${fn.name}: httpTrigger (in error)`);
      } else if (type.toLowerCase() === "timertrigger") {
        const ok = disabled || timers.add(fn, resolved);
        listing.push(ok ? `${fn.name}: timerTrigger (${String(resolved.schedule)})${suffix}` : `${fn.name}: timerTrigger (in error)`);
      } else if (type.toLowerCase() === "servicebustrigger") {
        // Service Bus (servicebus/trigger.ts)
        const ok = disabled || serviceBus.add(fn, resolved);
        listing.push(ok ? `${fn.name}: ${serviceBus.describe(fn)}${suffix}` : `${fn.name}: serviceBusTrigger (in error)`);
      } else {
        const module = this.triggers.find((t) => t.triggerType.toLowerCase() === type.toLowerCase());
        listing.push(module ? `${fn.name}: ${module.describe(fn)}${suffix}` : `${fn.name}: ${type} (not supported locally yet)`);
      }
    }

    this.#server = new LocalHttpServer({ host: this.host, invoker: this.invoker, routes, triggers: this.triggers, streamingProxyUri, isDisabled, appRoot });
    await reservation.release();
    const listeningPort = await this.#server.listen(port, "127.0.0.1");
    durable.setBaseUrl(`http://127.0.0.1:${listeningPort}`); // --- Durable ---
    this.#checkAborted();
    for (const trigger of this.triggers) await trigger.start?.();

    hostLog(`Base URL: ${baseUrl}`);
    process.stdout.write(`\nFunctions:\n\n${listing.map((l) => `        ${l}`).join("\n")}\n\n`);
    hostLog("Host started");
  }

  /** The worker asks the programming model for capabilities after app start; HTTP streaming answers with a proxy URI. */
  async #capabilities(): Promise<string | undefined> {
    const model = this.host.programmingModel;
    if (!model?.getCapabilities) return undefined;
    const capabilities = await model.getCapabilities({
      RawHttpBodyBytes: "true",
      RpcHttpTriggerMetadataRemoved: "true",
      RpcHttpBodyOnly: "true",
      IgnoreEmptyValuedRpcHttpHeaders: "true",
      UseNullableValueDictionaryForHttp: "true",
      WorkerStatus: "true",
      TypedDataCollection: "true",
      HandlesWorkerTerminateMessage: "true",
    });
    if (capabilities.HttpUri) hostLog("HTTP streaming enabled by the app.");
    return capabilities.HttpUri;
  }

  #checkAborted(): void {
    if (this.#aborted) throw new Error("Start-up aborted by shutdown.");
  }

  /** Idempotent: stop accepting, drain (bounded), stop triggers, appTerminate hooks, stop services. */
  stop(reason: string): Promise<void> {
    this.#aborted = true;
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  async #stop(reason: string): Promise<void> {
    hostLog(`Stopping host (${reason})...`);
    // Extra hosts drain alongside this one, and are gone before the services they share stop.
    const extraHostsStopped = Promise.allSettled(this.#extraHosts.map((h) => h.stop()));
    const closing = this.#server?.close();
    await this.#reservation?.release();
    for (const trigger of this.triggers) await trigger.stop?.().catch(() => undefined);
    const drainMs = this.options.drainTimeoutMs ?? 10_000;
    const inFlight = [...this.invoker.inFlight];
    if (inFlight.length > 0) {
      hostLog(`Waiting for ${inFlight.length} invocation(s) to finish...`);
      const drained = await Promise.race([
        Promise.allSettled(inFlight).then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), drainMs).unref()),
      ]);
      if (!drained) hostWarn(`Invocations still running after ${drainMs} ms; stopping anyway.`);
    }
    this.#server?.forceClose();
    await Promise.race([closing, new Promise((r) => setTimeout(r, 1000).unref())]);
    if (this.#appStarted) {
      try {
        await this.host.runHooks("appTerminate", this.host.appHookContext());
      } catch (error) {
        hostError("An appTerminate hook failed: %s", error instanceof Error ? error.message : String(error));
      }
    }
    this.#durable?.dispose(); // --- Durable ---
    await extraHostsStopped;
    await this.#services?.stop();
    hostLog("Host stopped");
  }
}
