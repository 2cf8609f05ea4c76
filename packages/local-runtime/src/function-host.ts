// The worker-side state a function app registers into: functions, hooks, the programming model.
// It is what `@azure/functions-core` exposes (see core-module.ts), kept apart from how it is served.
import { systemLog } from "./log.js";
import type {
  FunctionCallback,
  FunctionMetadata,
  HookCallback,
  HookData,
  HookName,
  ProgrammingModel,
  RpcBindingInfo,
  RpcLogCategory,
  RpcLogLevel,
} from "./core-types.js";

export interface RegisteredFunction {
  name: string;
  metadata: FunctionMetadata;
  callback: FunctionCallback;
  triggerName: string;
  trigger: RpcBindingInfo;
  /** The entry point file that registered it (the worker reports it as scriptFile). */
  scriptFile: string | undefined;
}

/** Mirrors the worker's Disposable (modelled on VS Code's): dispose runs the callback once. */
export class Disposable {
  static from(...items: { dispose(): unknown }[]): Disposable {
    let pending: { dispose(): unknown }[] | undefined = items;
    return new Disposable(() => {
      for (const item of pending ?? []) item.dispose();
      pending = undefined;
    });
  }

  #onDispose: (() => unknown) | undefined;

  constructor(onDispose: () => unknown) {
    this.#onDispose = onDispose;
  }

  dispose(): unknown {
    const callback = this.#onDispose;
    this.#onDispose = undefined;
    return callback?.();
  }
}

const hookNames: readonly HookName[] = ["preInvocation", "postInvocation", "appStart", "appTerminate"];

export function isTriggerType(type: string | null | undefined): boolean {
  return typeof type === "string" && /trigger$/i.test(type);
}

export class FunctionHost {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks: Record<HookName, HookCallback[]> = {
    preInvocation: [],
    postInvocation: [],
    appStart: [],
    appTerminate: [],
  };
  /** Shared by every hook, app-level and invocation-level alike. */
  readonly appHookData: HookData = {};
  /** Only app-level hooks (appStart/appTerminate) see this one. */
  readonly appLevelOnlyHookData: HookData = {};
  programmingModel: ProgrammingModel | undefined;
  /** Set once the app has started; the worker refuses registrations after that. */
  indexingLocked = false;
  currentEntryPoint: string | undefined;

  constructor(readonly hostVersion: string) {}

  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    if (this.indexingLocked) throw new Error("A function can only be registered during app startup.");
    const id = metadata.functionId ?? metadata.name;
    if (this.functions.has(id)) throw new Error(`A function with id "${id}" has already been registered.`);
    const triggerEntry = Object.entries(metadata.bindings).find(([, binding]) => isTriggerType(binding.type));
    if (!triggerEntry) throw new Error(`Function "${metadata.name}" has no trigger binding.`);
    const [triggerName, trigger] = triggerEntry;
    this.functions.set(id, {
      name: metadata.name,
      metadata,
      callback,
      triggerName,
      trigger,
      scriptFile: this.currentEntryPoint,
    });
    return new Disposable(() => {
      if (this.indexingLocked) throw new Error("A function can only be disposed during app startup.");
      this.functions.delete(id);
    });
  }

  registerHook(name: string, callback: HookCallback): Disposable {
    const hooks = this.hooksFor(name);
    hooks.push(callback);
    return new Disposable(() => {
      const index = hooks.indexOf(callback);
      if (index >= 0) hooks.splice(index, 1);
    });
  }

  hooksFor(name: string): HookCallback[] {
    if (!(hookNames as readonly string[]).includes(name)) throw new RangeError(`Unrecognized hook "${name}"`);
    return this.hooks[name as HookName];
  }

  /** Hooks run one after the other, in registration order, like the worker's executeHooks. */
  async runHooks(name: HookName, context: object): Promise<void> {
    for (const hook of [...this.hooks[name]]) await hook(context);
  }

  /** App-level hook context: hookData is app-level only, and neither property can be replaced. */
  appHookContext(extra: Record<string, unknown> = {}): object {
    const hookData = this.appLevelOnlyHookData;
    const appHookData = this.appHookData;
    return {
      get hookData() {
        return hookData;
      },
      get appHookData() {
        return appHookData;
      },
      ...extra,
    };
  }

  /** The object handed out as `require('@azure/functions-core')`. */
  coreApi(version: string): object {
    return {
      version,
      hostVersion: this.hostVersion,
      registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback) =>
        this.registerFunction(metadata, callback),
      registerHook: (name: string, callback: HookCallback) => this.registerHook(name, callback),
      setProgrammingModel: (model: ProgrammingModel) => {
        this.programmingModel = model;
      },
      getProgrammingModel: () => this.programmingModel,
      log: (level: RpcLogLevel, _category: RpcLogCategory, message: string) => systemLog(level, message),
      Disposable,
    };
  }
}
