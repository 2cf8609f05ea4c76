// One invocation through the app's programming model, in the worker's order:
// getInvocationModel → getArguments → preInvocation hooks → invokeFunction → postInvocation hooks → getResponse.
// Every trigger module calls this; it knows nothing about HTTP or timers.
import { randomUUID } from "node:crypto";
import { format } from "node:util";
import { debugEnabled, functionLog, hostErrorBatched, hostLog } from "./log.js";
import { LogLevelFilter, logLevelRank } from "./log-levels.js";
import type { FunctionHost, RegisteredFunction } from "./function-host.js";
import type {
  CoreInvocationContext,
  InvocationState,
  PostInvocationContext,
  PreInvocationContext,
  RpcFunctionMetadata,
  RpcInvocationRequest,
  RpcInvocationResponse,
  RpcLogCategory,
  RpcLogLevel,
  RpcParameterBinding,
  RpcTypedData,
} from "./core-types.js";

export interface InvokeRequest {
  inputData: RpcParameterBinding[];
  triggerMetadata?: Record<string, RpcTypedData>;
  invocationId?: string;
  /** Why it ran, for the "Executing" line (the host prints e.g. "Timer fired at ..."). */
  reason?: string;
  traceParent?: string;
}

export interface InvokeResult {
  invocationId: string;
  response: RpcInvocationResponse;
}

/** Receives what a function wrote to an output binding of one type (e.g. a Service Bus message). */
export type OutputBindingHandler = (bindingName: string, data: RpcTypedData, fn: RegisteredFunction) => void | Promise<void>;

/** Supplies data for input bindings the trigger does not carry (e.g. durableClient), per binding type. */
export type InputBindingProvider = (bindingName: string, fn: RegisteredFunction) => RpcTypedData | undefined;

const informationRank = logLevelRank("information");
const errorRank = logLevelRank("error");

export class FunctionInvocationError extends Error {
  constructor(
    readonly invocationId: string,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : format(cause));
  }
}

class LocalCoreInvocationContext implements CoreInvocationContext {
  state?: InvocationState;

  constructor(
    readonly invocationId: string,
    readonly request: RpcInvocationRequest,
    readonly metadata: RpcFunctionMetadata,
    private readonly plan: FunctionPlan,
  ) {}

  /** User logs are in the category `Function.<name>.User`; the library's system messages in `Function.<name>`, one level down. */
  log(level: RpcLogLevel, category: RpcLogCategory, message: string): void {
    const written = category === "user" ? level : level === "information" ? "debug" : level;
    const minimum = category === "user" ? this.plan.userMinimum : this.plan.functionMinimum;
    if (written !== "none" && logLevelRank(written) >= minimum) functionLog(this.plan.metadata.name ?? "function", written, message);
  }
}

function toRpcMetadata(fn: RegisteredFunction): RpcFunctionMetadata {
  return {
    name: fn.name,
    functionId: fn.metadata.functionId ?? fn.name,
    bindings: fn.metadata.bindings,
    // The host reads rawBindings; the library reads bindings. Keep both as the worker does.
    rawBindings: Object.entries(fn.metadata.bindings).map(([name, b]) => JSON.stringify({ ...b, name })),
    scriptFile: fn.scriptFile ?? "unknown",
    retryOptions: fn.metadata.retryOptions,
  };
}

/** What an invocation needs to know about a function, worked out once (registrations are fixed after start-up). */
interface FunctionPlan {
  metadata: RpcFunctionMetadata;
  functionId: string;
  /** Input bindings besides the trigger, as [name, lower-case type]: candidates for input binding providers. */
  extraInputBindings: [string, string][];
  /** Whether any output binding is not `http` (only those are handed to output binding handlers). */
  hasNonHttpOutputs: boolean;
  /** Lowest level written (log-levels.ts rank) in `Function.<name>` (Executing/Executed lines) and `Function.<name>.User`. */
  functionMinimum: number;
  userMinimum: number;
}

function planFor(fn: RegisteredFunction, levels: LogLevelFilter): FunctionPlan {
  const entries = Object.entries(fn.metadata.bindings);
  // LOCAL_RUNTIME_DEBUG shows everything, whatever host.json says.
  const minimum = (category: string): number => (debugEnabled ? 0 : levels.minimum(category));
  return {
    functionMinimum: minimum(`Function.${fn.name}`),
    userMinimum: minimum(`Function.${fn.name}.User`),
    metadata: toRpcMetadata(fn),
    functionId: fn.metadata.functionId ?? fn.name,
    extraInputBindings: entries
      .filter(([name, b]) => b.direction === "in" && name !== fn.triggerName)
      .map(([name, b]) => [name, String(b.type).toLowerCase()]),
    hasNonHttpOutputs: entries.some(([, b]) => b.direction === "out" && String(b.type).toLowerCase() !== "http"),
  };
}

export class Invoker {
  readonly inFlight = new Set<Promise<unknown>>();
  readonly #inputProviders = new Map<string, InputBindingProvider>();
  readonly #outputHandlers = new Map<string, OutputBindingHandler>();
  readonly #warnedOutputs = new Set<string>();
  #plans = new WeakMap<RegisteredFunction, FunctionPlan>();
  #logLevels = new LogLevelFilter();

  constructor(private readonly host: FunctionHost) {}

  /** host.json `logging.logLevel`, applied to every invocation's lines from now on. */
  setLogLevels(filter: LogLevelFilter): void {
    this.#logLevels = filter;
    this.#plans = new WeakMap();
  }

  registerInputBindingProvider(bindingType: string, provider: InputBindingProvider): void {
    this.#inputProviders.set(bindingType.toLowerCase(), provider);
  }

  registerOutputBindingHandler(bindingType: string, handler: OutputBindingHandler): void {
    this.#outputHandlers.set(bindingType.toLowerCase(), handler);
  }

  /** Invokes by function name; throws FunctionInvocationError when the function (or a hook) failed. */
  invoke(functionName: string, request: InvokeRequest): Promise<InvokeResult> {
    const fn = this.host.functions.get(functionName);
    if (!fn) return Promise.reject(new Error(`Function '${functionName}' is not registered.`));
    const run = this.#invoke(fn, request);
    this.inFlight.add(run);
    const forget = (): void => {
      this.inFlight.delete(run);
    };
    run.then(forget, forget);
    return run;
  }

  #plan(fn: RegisteredFunction): FunctionPlan {
    let plan = this.#plans.get(fn);
    if (!plan) {
      plan = planFor(fn, this.#logLevels);
      this.#plans.set(fn, plan);
    }
    return plan;
  }

  async #invoke(fn: RegisteredFunction, request: InvokeRequest): Promise<InvokeResult> {
    const invocationId = request.invocationId ?? randomUUID();
    const started = performance.now();
    const plan = this.#plan(fn);
    // The host logs these in the category Function.<name>: Information, and Error for a failure.
    const lines = plan.functionMinimum <= informationRank;
    if (lines) {
      hostLog(
        `Executing 'Functions.${fn.name}' (Reason='${request.reason ?? "This function was programmatically called via the host APIs."}', Id=${invocationId})`,
      );
    }
    try {
      const response = await this.#runPipeline(fn, plan, invocationId, request);
      if (plan.hasNonHttpOutputs) await this.#deliverOutputs(fn, response);
      if (lines) hostLog(`Executed 'Functions.${fn.name}' (Succeeded, Id=${invocationId}, Duration=${elapsed(started)}ms)`);
      return { invocationId, response };
    } catch (error) {
      if (plan.functionMinimum <= errorRank) {
        hostErrorBatched(
          `Executed 'Functions.${fn.name}' (Failed, Id=${invocationId}, Duration=${elapsed(started)}ms)\n${describeError(error)}`,
        );
      }
      throw new FunctionInvocationError(invocationId, error);
    }
  }

  async #runPipeline(fn: RegisteredFunction, plan: FunctionPlan, invocationId: string, request: InvokeRequest): Promise<RpcInvocationResponse> {
    const model = this.host.programmingModel;
    if (!model) throw new Error("No programming model was set; the app never loaded @azure/functions.");

    const rpcRequest: RpcInvocationRequest = {
      invocationId,
      functionId: plan.functionId,
      inputData: plan.extraInputBindings.length === 0 ? request.inputData : [...request.inputData, ...this.#extraInputs(fn, plan, request.inputData)],
      triggerMetadata: request.triggerMetadata ?? {},
      traceContext: { traceParent: request.traceParent ?? newTraceParent(), traceState: "", attributes: {} },
      retryContext: null,
    };
    const coreCtx = new LocalCoreInvocationContext(invocationId, rpcRequest, plan.metadata, plan);
    // The library answers synchronously; awaiting a plain value would still cost a turn of the microtask queue.
    const modelOrPromise = model.getInvocationModel(coreCtx);
    const invocationModel = modelOrPromise instanceof Promise ? await modelOrPromise : modelOrPromise;
    const { context, inputs } = await invocationModel.getArguments();
    const { preInvocation, postInvocation } = this.host.hooks;
    // Without hooks there is nothing to hand a hook context to: skip building them (and awaiting empty lists).
    if (preInvocation.length === 0 && postInvocation.length === 0) {
      coreCtx.state = "invocation";
      let result: unknown = null;
      try {
        result = await invocationModel.invokeFunction(context, inputs, fn.callback);
      } catch (error) {
        // As below: a thrown null/undefined is no error.
        if (error !== null && error !== undefined) throw error;
      } finally {
        coreCtx.state = undefined;
      }
      return invocationModel.getResponse(context, result);
    }

    // Both hook contexts share these, read-only as the worker gives them.
    const shared = readOnlyHookFields({ hookData: {}, appHookData: this.host.appHookData, invocationContext: context });
    const preContext = Object.defineProperties({ inputs, functionCallback: fn.callback }, shared) as PreInvocationContext;
    if (preInvocation.length > 0) await this.#runHooks(coreCtx, "preInvocation", preContext);

    const postContext = Object.defineProperties({ inputs: preContext.inputs, result: null as unknown, error: null as unknown }, shared) as PostInvocationContext;
    coreCtx.state = "invocation";
    try {
      postContext.result = await invocationModel.invokeFunction(context, preContext.inputs, preContext.functionCallback);
    } catch (error) {
      postContext.error = error;
    } finally {
      coreCtx.state = undefined;
    }

    if (postInvocation.length > 0) await this.#runHooks(coreCtx, "postInvocation", postContext);

    // Like the worker: a hook may clear the error (then the result stands) or set one.
    if (postContext.error !== null && postContext.error !== undefined) {
      throw postContext.error;
    }
    return invocationModel.getResponse(context, postContext.result);
  }

  /** Runs an invocation's hooks with the core context in the state the library checks (it refuses some calls in hooks). */
  async #runHooks(coreCtx: LocalCoreInvocationContext, name: "preInvocation" | "postInvocation", hookContext: object): Promise<void> {
    coreCtx.state = name === "preInvocation" ? "preInvocationHooks" : "postInvocationHooks";
    try {
      await this.host.runHooks(name, hookContext);
    } finally {
      coreCtx.state = undefined;
    }
  }

  /** Hands non-HTTP outputs to their handler; types nobody handles yet are reported (once per binding) and dropped. */
  async #deliverOutputs(fn: RegisteredFunction, response: RpcInvocationResponse): Promise<void> {
    const outputs = response.outputData ? [...response.outputData] : [];
    const returnBinding = fn.metadata.bindings.$return;
    if (returnBinding && response.returnValue) outputs.push({ name: "$return", data: response.returnValue });
    for (const output of outputs) {
      const name = output.name ?? "";
      const type = String(fn.metadata.bindings[name]?.type ?? "");
      if (!output.data || type.toLowerCase() === "http") continue;
      const handler = this.#outputHandlers.get(type.toLowerCase());
      if (handler) {
        await handler(name, output.data, fn);
      } else if (!this.#warnedOutputs.has(`${fn.name}/${name}`)) {
        this.#warnedOutputs.add(`${fn.name}/${name}`);
        hostLog(`Output binding '${name}' (${type}) of '${fn.name}' is not supported locally yet; value dropped: ${preview(output.data)}`);
      }
    }
  }

  #extraInputs(fn: RegisteredFunction, plan: FunctionPlan, given: RpcParameterBinding[]): RpcParameterBinding[] {
    const extra: RpcParameterBinding[] = [];
    for (const [name, type] of plan.extraInputBindings) {
      if (given.some((b) => b.name === name)) continue;
      const data = this.#inputProviders.get(type)?.(name, fn);
      if (data) extra.push({ name, data });
    }
    return extra;
  }
}

function preview(data: RpcTypedData): string {
  const text = data.string ?? data.json ?? (data.bytes ? `<${data.bytes.length} bytes>` : JSON.stringify(data));
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? error.message;
  return format(error);
}

/** A W3C traceparent with random ids (randomUUID draws from a cached entropy pool, cheaper than randomBytes). */
function newTraceParent(): string {
  const trace = randomUUID();
  const span = randomUUID();
  return `00-${trace.slice(0, 8)}${trace.slice(9, 13)}${trace.slice(14, 18)}${trace.slice(19, 23)}${trace.slice(24)}-${span.slice(0, 8)}${span.slice(9, 13)}${span.slice(14, 18)}-01`;
}

/** Property descriptors that expose each field read-only (getters), as the worker's hook contexts do. */
function readOnlyHookFields(fields: Record<string, unknown>): PropertyDescriptorMap {
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, { get: () => value, enumerable: true }]));
}
