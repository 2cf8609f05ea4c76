// The seam for trigger types: HTTP and timers today; Service Bus and Durable Functions plug in the same way.
import type { RegisteredFunction } from "./function-host.js";
import type { InvokeRequest } from "./invoke.js";

export interface TriggerModule {
  /** Binding type it serves, compared case-insensitively (e.g. 'timerTrigger'). */
  readonly triggerType: string;
  /** One line for the start-up listing, after "<name>: ". */
  describe(fn: RegisteredFunction): string;
  /** Builds the invocation for `POST /admin/functions/{name}` with body `{ "input": ... }`. */
  adminInvocation?(fn: RegisteredFunction, input: unknown): Promise<InvokeRequest> | InvokeRequest;
  /** Runs admin invocations itself (e.g. to keep one run of a timer at a time). */
  runAdminInvocation?(fn: RegisteredFunction, input: unknown): Promise<void>;
  start?(): Promise<void>;
  /** Stop producing new invocations; in-flight ones are drained by the runtime. */
  stop?(): Promise<void>;
}

export function findTriggerModule(modules: readonly TriggerModule[], type: string | null | undefined): TriggerModule | undefined {
  const wanted = String(type).toLowerCase();
  return modules.find((m) => m.triggerType.toLowerCase() === wanted);
}
