// The local Durable Functions engine: runs orchestrator episodes through the library's out-of-process
// protocol (history in, `{ isDone, actions, output, error, customStatus }` out), schedules what the actions
// ask for (activities, retries, timers, external events, sub-orchestrations, continue-as-new), and keeps
// every instance in an InstanceStore so a restarted runtime resumes in-flight work.
//
// Sequence ids are allocated as DurableTask.Core does and as the library expects: every activity call,
// timer and sub-orchestration takes the next id in the order the orchestrator yields them; a retried call
// takes one id for the timer after each failed attempt and one for each new attempt, at the point its
// failure (or its retry timer) is processed. One episode at a time per instance; events queue meanwhile.
import { randomUUID } from "node:crypto";
import { FunctionInvocationError, type Invoker } from "../invoke.js";
import { hostError, hostLog } from "../log.js";
import type { FunctionHost, RegisteredFunction } from "../function-host.js";
import type { RpcTypedData } from "../core-types.js";
import { Limiter } from "./limiter.js";
import type { InstanceStore } from "./store.js";
import {
  ActionType,
  EventType,
  actionTypeNames,
  terminalStatuses,
  type HistoryEvent,
  type InstanceState,
  type OpenTask,
  type OrchestratorAction,
  type OrchestratorStateJson,
  type RetryGroup,
  type RuntimeStatus,
  type ScheduledItem,
  newInstanceState,
} from "./types.js";

const outOfProcLabel = "$OutOfProcData$:";
/** ReplaySchema.V3 (2): compound WhenAll/WhenAny actions. V4 (entity locks) is not offered: no entities here. */
const upperSchemaVersion = 2;
const maxTimeout = 2_147_483_647;

export class StartError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface EngineOptions {
  store: InstanceStore;
  now?: () => Date;
  /** host.json durableTask.maxConcurrentActivityFunctions (the extension's default: 10 per processor). */
  maxConcurrentActivityFunctions?: number;
  /** host.json durableTask.maxConcurrentOrchestratorFunctions: orchestrator episodes running at once. */
  maxConcurrentOrchestratorFunctions?: number;
}

export interface ListFilter {
  runtimeStatus?: string[];
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
  instanceIdPrefix?: string;
}

export function isTerminal(status: RuntimeStatus): boolean {
  return terminalStatuses.includes(status);
}

export class DurableEngine {
  readonly #instances = new Map<string, InstanceState>();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #store: InstanceStore;
  readonly #now: () => Date;
  readonly #activitySlots: Limiter;
  readonly #episodeSlots: Limiter;
  /** Function lookups by lower-cased name and trigger kind (every episode and activity asks). */
  readonly #functionsByKind = new Map<string, RegisteredFunction | null>();
  #stopped = false;
  #started = false;

  constructor(
    private readonly host: FunctionHost,
    private readonly invoker: Invoker,
    options: EngineOptions,
  ) {
    this.#store = options.store;
    this.#now = options.now ?? (() => new Date());
    this.#activitySlots = new Limiter(Math.max(1, options.maxConcurrentActivityFunctions ?? 10));
    this.#episodeSlots = new Limiter(Math.max(1, options.maxConcurrentOrchestratorFunctions ?? 10));
  }

  get storeKind(): string {
    return this.#store.kind;
  }

  /** Loads persisted instances and resumes the in-flight ones (timers re-armed, unfinished activities run again). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const states = this.#store.loadAll();
    for (const state of states) this.#instances.set(state.instanceId, state);
    let resumed = 0;
    for (const state of states) {
      if (isTerminal(state.status)) continue;
      resumed++;
      this.#run(state.instanceId, async () => {
        const open = [...state.open];
        for (const task of open) this.#startOpenTask(state, task);
        await this.#episodes(state.instanceId);
      });
    }
    if (states.length > 0) hostLog(`Durable Functions: ${states.length} instance(s) loaded, ${resumed} resumed.`);
  }

  /** Stops timers and episodes; running activities finish (the runtime drains them) and their results are kept. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Waits until every queued operation has run (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.#chains.size > 0) await Promise.allSettled([...this.#chains.values()]);
  }

  get(instanceId: string): InstanceState | undefined {
    return this.#instances.get(instanceId);
  }

  list(filter: ListFilter = {}): InstanceState[] {
    const statuses = filter.runtimeStatus?.map((s) => s.toLowerCase());
    return [...this.#instances.values()]
      .filter((s) => !statuses || statuses.includes(s.status.toLowerCase()))
      .filter((s) => !filter.createdTimeFrom || Date.parse(s.createdTime) >= filter.createdTimeFrom.getTime())
      .filter((s) => !filter.createdTimeTo || Date.parse(s.createdTime) <= filter.createdTimeTo.getTime())
      .filter((s) => !filter.instanceIdPrefix || s.instanceId.startsWith(filter.instanceIdPrefix))
      .sort((a, b) => a.createdTime.localeCompare(b.createdTime) || a.instanceId.localeCompare(b.instanceId));
  }

  #orchestrator(name: string): RegisteredFunction | undefined {
    return this.#function(name, "orchestrationtrigger");
  }

  #activity(name: string): RegisteredFunction | undefined {
    return this.#function(name, "activitytrigger");
  }

  #function(name: string, triggerType: string): RegisteredFunction | undefined {
    const key = `${triggerType}\n${name.toLowerCase()}`;
    let fn = this.#functionsByKind.get(key);
    if (fn === undefined) {
      fn = null;
      for (const candidate of this.host.functions.values()) {
        if (candidate.name.toLowerCase() === name.toLowerCase() && String(candidate.trigger.type).toLowerCase() === triggerType) {
          fn = candidate;
          break;
        }
      }
      // Only hits are remembered: functions register before the engine starts, but a miss stays cheap to redo.
      if (fn) this.#functionsByKind.set(key, fn);
    }
    return fn ?? undefined;
  }

  /**
   * Starts an instance. Like the extension with its default `overridableExistingInstanceStates` (NonRunningStates):
   * an id whose instance is Pending/Running/ContinuedAsNew/Suspended is refused; a finished one is replaced.
   */
  startNew(name: string, instanceId: string | undefined, input: unknown): string {
    const fn = this.#orchestrator(name);
    if (!fn) throw new StartError(400, `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`);
    const id = instanceId && instanceId !== "" ? instanceId : randomUUID().replace(/-/g, "");
    if (id.startsWith("@")) throw new StartError(400, "Orchestration instance ids must not start with @.");
    // eslint-disable-next-line no-control-regex
    if (/[/\\?#\u0000-\u001f\u007f]/.test(id)) throw new StartError(400, "Orchestration instance ids must not contain /, \\, #, ?, or control characters.");
    if (id.length > 256) throw new StartError(400, "Instance ID lengths must not exceed 256 characters.");
    const existing = this.#instances.get(id);
    if (existing && !isTerminal(existing.status)) {
      throw new StartError(500, `An Orchestration instance with the status ${existing.status} already exists.`);
    }
    if (existing) this.#cancelTimers(existing);
    this.#create(fn.name, id, input, undefined);
    return id;
  }

  #create(name: string, id: string, input: unknown, parent: InstanceState["parent"]): InstanceState {
    const now = this.#now().toISOString();
    const state = newInstanceState({
      instanceId: id,
      name,
      executionId: randomUUID().replace(/-/g, ""),
      input: input === undefined ? null : input,
      status: "Pending",
      createdTime: now,
      parent,
    });
    state.pending.push(this.#executionStarted(state));
    this.#instances.set(id, state);
    this.#save(state);
    this.#schedule(id);
    return state;
  }

  #executionStarted(state: InstanceState): HistoryEvent {
    return {
      EventType: EventType.ExecutionStarted,
      EventId: -1,
      IsPlayed: false,
      Timestamp: this.#now().toISOString(),
      Name: state.name,
      Input: JSON.stringify(state.input ?? null),
      OrchestrationInstance: { InstanceId: state.instanceId, ExecutionId: state.executionId },
      ParentInstance: state.parent
        ? { Name: state.parent.name, OrchestrationInstance: { InstanceId: state.parent.instanceId }, TaskScheduleId: state.parent.taskId }
        : null,
      Version: "",
    };
  }

  /** 404 → undefined; 410 → 'gone'. */
  raiseEvent(instanceId: string, eventName: string, inputJson: string | undefined): "accepted" | "gone" | undefined {
    const state = this.#instances.get(instanceId);
    if (!state) return undefined;
    if (isTerminal(state.status)) return "gone";
    this.#run(instanceId, async () => {
      const current = this.#instances.get(instanceId);
      if (!current || isTerminal(current.status)) return;
      current.pending.push({ EventType: EventType.EventRaised, EventId: -1, IsPlayed: false, Timestamp: this.#now().toISOString(), Name: eventName, Input: inputJson });
      this.#save(current);
      await this.#episodes(instanceId);
    });
    return "accepted";
  }

  terminate(instanceId: string, reason: string): "accepted" | "gone" | undefined {
    const state = this.#instances.get(instanceId);
    if (!state) return undefined;
    if (isTerminal(state.status)) return "gone";
    this.#run(instanceId, () => {
      const current = this.#instances.get(instanceId);
      if (!current || isTerminal(current.status)) return Promise.resolve();
      hostLog(`Durable Functions: instance '${instanceId}' terminated${reason ? ` (${reason})` : ""}.`);
      this.#finish(current, "Terminated", reason);
      return Promise.resolve();
    });
    return "accepted";
  }

  suspend(instanceId: string, reason: string): "accepted" | "gone" | undefined {
    const state = this.#instances.get(instanceId);
    if (!state) return undefined;
    if (isTerminal(state.status)) return "gone";
    this.#run(instanceId, () => {
      const current = this.#instances.get(instanceId);
      if (current && !isTerminal(current.status)) {
        current.status = "Suspended";
        current.suspendedReason = reason;
        this.#touch(current);
        this.#save(current);
      }
      return Promise.resolve();
    });
    return "accepted";
  }

  resume(instanceId: string): "accepted" | "gone" | undefined {
    const state = this.#instances.get(instanceId);
    if (!state) return undefined;
    if (isTerminal(state.status)) return "gone";
    this.#run(instanceId, async () => {
      const current = this.#instances.get(instanceId);
      if (current?.status !== "Suspended") return;
      current.status = "Running";
      delete current.suspendedReason;
      this.#touch(current);
      this.#save(current);
      await this.#episodes(instanceId);
    });
    return "accepted";
  }

  /**
   * Moves an instance's clock `advanceMs` ahead (it stays ahead: later episodes and timers keep the offset, across
   * restarts) and fires every open timer now due on it, as if that time had come: its timeout cleared, a TimerFired
   * event with the timer's own FireAt, persisted, one episode for all of them, whose `currentUtcDateTime` is the
   * advanced clock (so durable-functions' long timers, split into 3-day pieces, reach their end). Timers that
   * episode creates fire when the advanced clock reaches them. Resolves once the episode has run; undefined for an
   * unknown instance. A finished instance has no open timers (fired: []).
   */
  fireTimersEarly(instanceId: string, advanceMs: number): Promise<{ timerId: number; fireAt: string }[]> | undefined {
    if (!this.#instances.has(instanceId)) return undefined;
    let fired: { timerId: number; fireAt: string }[] = [];
    // The chain never rejects (#run logs a failure): whatever happened, the caller hears what was fired.
    return this.#run(instanceId, async () => {
      const state = this.#instances.get(instanceId);
      if (!state || isTerminal(state.status)) return;
      state.clockOffsetMs = (state.clockOffsetMs ?? 0) + advanceMs;
      this.#save(state);
      const horizon = this.#clock(state).getTime();
      const due = state.open.filter((t): t is Extract<OpenTask, { kind: "timer" }> => t.kind === "timer" && Date.parse(t.fireAt) <= horizon);
      // Timers not due yet were armed against the old clock: re-arm them against the new one.
      for (const t of state.open) if (t.kind === "timer" && Date.parse(t.fireAt) > horizon) this.#armTimer(state, t.id, t.fireAt);
      if (due.length === 0) return;
      due.sort((a, b) => a.fireAt.localeCompare(b.fireAt) || a.id - b.id);
      for (const timer of due) {
        this.#dropOpen(state, timer.id);
        state.pending.push({ EventType: EventType.TimerFired, EventId: -1, IsPlayed: false, Timestamp: this.#clock(state).toISOString(), TimerId: timer.id, FireAt: timer.fireAt });
      }
      fired = due.map((t) => ({ timerId: t.id, fireAt: t.fireAt }));
      hostLog(`Durable Functions: fired ${due.length} timer(s) of instance '${instanceId}' early (admin API).`);
      this.#save(state);
      await this.#episodes(instanceId);
    }).then(() => fired);
  }

  /** Purges finished instances only; returns how many were deleted. */
  purge(instanceIds: string[]): number {
    let deleted = 0;
    for (const id of instanceIds) {
      const state = this.#instances.get(id);
      if (!state || !isTerminal(state.status)) continue;
      this.#instances.delete(id);
      this.#store.remove(id);
      deleted++;
    }
    return deleted;
  }

  // ---- serialisation per instance ----

  /** Chains `operation` after the instance's earlier ones; the returned chain settles when it has run (never rejects). */
  #run(instanceId: string, operation: () => Promise<void>): Promise<void> {
    const previous = this.#chains.get(instanceId) ?? Promise.resolve();
    const next = previous.then(operation).catch((error: unknown) => {
      hostError(`Durable Functions: instance '${instanceId}': ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    });
    this.#chains.set(instanceId, next);
    void next.then(() => {
      if (this.#chains.get(instanceId) === next) this.#chains.delete(instanceId);
    });
    return next;
  }

  #schedule(instanceId: string): void {
    this.#run(instanceId, () => this.#episodes(instanceId));
  }

  async #episodes(instanceId: string): Promise<void> {
    for (;;) {
      const state = this.#instances.get(instanceId);
      if (!state || this.#stopped || isTerminal(state.status) || state.status === "Suspended" || state.pending.length === 0) return;
      await this.#episode(state);
    }
  }

  #save(state: InstanceState): void {
    if (this.#instances.get(state.instanceId) !== state) return;
    this.#store.save(state);
  }

  #touch(state: InstanceState): void {
    state.lastUpdatedTime = this.#now().toISOString();
  }

  // ---- one episode ----

  /** The instance's clock: real time, plus what the admin API moved it ahead by (`fireTimersEarly`). */
  #clock(state: InstanceState): Date {
    return new Date(this.#now().getTime() + (state.clockOffsetMs ?? 0));
  }

  async #episode(state: InstanceState): Promise<void> {
    const now = this.#clock(state);
    const batch = this.#orderBatch(state, state.pending.splice(0));
    const produced: HistoryEvent[] = [];
    const toStart: OpenTask[] = [];
    for (const event of batch) this.#allocateForRetry(state, event, now, produced, toStart);

    if (state.status === "Pending" || state.status === "ContinuedAsNew") state.status = "Running";
    const replayedCount = state.history.length;
    for (const event of state.history) event.IsPlayed = true;
    state.history.push({ EventType: EventType.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: now.toISOString() });
    state.history.push(...batch.map((e) => ({ ...e, IsPlayed: false })));
    state.history.push(...produced);

    const fn = this.#orchestrator(state.name);
    if (!fn) {
      this.#fail(state, `The function '${state.name}' doesn't exist, is disabled, or is not an orchestrator function.`);
      return;
    }
    const payload = {
      history: state.history,
      input: state.input,
      instanceId: state.instanceId,
      isReplaying: replayedCount > 0,
      parentInstanceId: state.parent?.instanceId ?? null,
      upperSchemaVersion,
      upperSchemaVersionNew: upperSchemaVersion,
      longRunningTimerIntervalDuration: "3.00:00:00",
      maximumShortTimerDuration: "6.00:00:00",
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    };
    const result = await this.#episodeSlots.run(() => this.#invokeOrchestrator(fn, payload));
    if (this.#instances.get(state.instanceId) !== state || isTerminal(state.status)) return; // terminated or purged meanwhile
    if ("failure" in result) {
      this.#fail(state, result.failure);
      return;
    }
    const orchestratorState = result.state;
    if (orchestratorState.customStatus !== undefined) state.customStatus = orchestratorState.customStatus;

    const actions = flatten(orchestratorState.actions).filter((a) => a.actionType !== ActionType.ContinueAsNew);
    const mismatch = this.#checkDeterminism(state, actions, orchestratorState.error === undefined);
    if (mismatch) {
      this.#fail(state, mismatch);
      return;
    }
    if (orchestratorState.error !== undefined) {
      this.#fail(state, `Orchestrator function '${state.name}' failed: ${orchestratorState.error}`);
      return;
    }
    // Timers the orchestrator cancelled (the action object flips isCanceled; it is re-sent with every episode).
    actions.forEach((action, index) => {
      const item = state.scheduled[index];
      if (action.actionType === ActionType.CreateTimer && action.isCanceled && item?.id !== undefined) this.#dropOpen(state, item.id);
    });
    for (let index = state.scheduled.length; index < actions.length; index++) {
      const problem = this.#scheduleAction(state, actions[index] as OrchestratorAction, now, toStart);
      if (problem) {
        this.#fail(state, problem);
        return;
      }
    }

    if (orchestratorState.isDone) {
      const continueAsNew = flatten(orchestratorState.actions).find((a) => a.actionType === ActionType.ContinueAsNew);
      if (continueAsNew) {
        this.#continueAsNew(state, continueAsNew.input);
        return;
      }
      state.history.push({ EventType: EventType.OrchestratorCompleted, EventId: -1, IsPlayed: false, Timestamp: this.#now().toISOString() });
      this.#finish(state, "Completed", orchestratorState.output);
      return;
    }
    state.history.push({ EventType: EventType.OrchestratorCompleted, EventId: -1, IsPlayed: false, Timestamp: this.#now().toISOString() });
    this.#touch(state);
    this.#save(state);
    for (const task of toStart) this.#startOpenTask(state, task);
  }

  /** Retry bookkeeping happens before the orchestrator sees the batch, so allocations come first (see #orderBatch). */
  #allocateForRetry(state: InstanceState, event: HistoryEvent, now: Date, produced: HistoryEvent[], toStart: OpenTask[]): void {
    const group = this.#retryGroupOf(state, event);
    if (!group) return;
    const [groupId, retry] = group;
    if (event.EventType === EventType.TaskFailed || event.EventType === EventType.SubOrchestrationInstanceFailed) {
      retry.attemptNumber++;
      const retryCount = retry.attemptNumber - 2;
      const options = retry.options;
      let delay = options.firstRetryIntervalInMilliseconds * Math.pow(options.backoffCoefficient ?? 1, retryCount);
      if (options.maxRetryIntervalInMilliseconds && options.maxRetryIntervalInMilliseconds > 0) delay = Math.min(delay, options.maxRetryIntervalInMilliseconds);
      const timerId = state.nextId++;
      const fireAt = new Date(now.getTime() + delay).toISOString();
      retry.waitingOnTimer = true;
      retry.currentId = timerId;
      state.retryTaskGroups[timerId] = groupId;
      produced.push({ EventType: EventType.TimerCreated, EventId: timerId, IsPlayed: false, Timestamp: now.toISOString(), FireAt: fireAt });
      const timer: OpenTask = { kind: "timer", id: timerId, fireAt, retryGroup: groupId };
      state.open.push(timer);
      toStart.push(timer);
    } else if (event.EventType === EventType.TimerFired) {
      retry.waitingOnTimer = false;
      if (retry.attemptNumber > retry.options.maxNumberOfAttempts) {
        delete state.retryGroups[groupId];
        return;
      }
      const id = state.nextId++;
      retry.currentId = id;
      state.retryTaskGroups[id] = groupId;
      const task = this.#newWork(state, retry.kind, retry.name, retry.input, retry.instanceId, id, now, produced, groupId);
      state.open.push(task);
      toStart.push(task);
    } else {
      delete state.retryGroups[groupId];
    }
  }

  #retryGroupOf(state: InstanceState, event: HistoryEvent): [number, RetryGroup] | undefined {
    const id = event.EventType === EventType.TimerFired ? event.TimerId : event.TaskScheduledId;
    if (id === undefined) return undefined;
    const groupId = state.retryTaskGroups[id];
    if (groupId === undefined) return undefined;
    const group = state.retryGroups[groupId];
    if (!group || group.currentId !== id) return undefined;
    return [groupId, group];
  }

  /**
   * Events that make the library allocate a sequence id without resuming user code (a retried call's failure,
   * its retry timer firing while attempts remain) go first, so the library and the engine allocate in one order.
   */
  #orderBatch(state: InstanceState, batch: HistoryEvent[]): HistoryEvent[] {
    const allocating: HistoryEvent[] = [];
    const rest: HistoryEvent[] = [];
    for (const event of batch) {
      const group = this.#retryGroupOf(state, event);
      let allocates = false;
      if (group) {
        const [, retry] = group;
        if (event.EventType === EventType.TaskFailed || event.EventType === EventType.SubOrchestrationInstanceFailed) allocates = !retry.waitingOnTimer;
        else if (event.EventType === EventType.TimerFired) allocates = retry.waitingOnTimer && retry.attemptNumber <= retry.options.maxNumberOfAttempts;
      }
      (allocates ? allocating : rest).push(event);
    }
    return [...allocating, ...rest];
  }

  #checkDeterminism(state: InstanceState, actions: OrchestratorAction[], requireAll: boolean): string | undefined {
    const limit = Math.min(actions.length, state.scheduled.length);
    for (let i = 0; i < limit; i++) {
      const action = actions[i] as OrchestratorAction;
      const item = state.scheduled[i] as ScheduledItem;
      const name = actionName(action);
      if (action.actionType !== item.actionType || (name ?? "") !== (item.name ?? "")) {
        return (
          `Nondeterministic orchestrator '${state.name}' (instance '${state.instanceId}'): step ${i + 1} of the recorded history is ` +
          `${describeItem(item)}, but on replay the orchestrator asked for ${describeItem({ actionType: action.actionType, name })}. ` +
          "Orchestrator code must make the same calls in the same order on every replay."
        );
      }
    }
    if (requireAll && actions.length < state.scheduled.length) {
      const item = state.scheduled[actions.length] as ScheduledItem;
      return (
        `Nondeterministic orchestrator '${state.name}' (instance '${state.instanceId}'): the recorded history has ${describeItem(item)} ` +
        `at step ${actions.length + 1}, but on replay the orchestrator no longer asks for it.`
      );
    }
    return undefined;
  }

  #scheduleAction(state: InstanceState, action: OrchestratorAction, now: Date, toStart: OpenTask[]): string | undefined {
    const produced: HistoryEvent[] = [];
    const type = action.actionType;
    switch (type) {
      case ActionType.CallActivity:
      case ActionType.CallActivityWithRetry:
      case ActionType.CallSubOrchestrator:
      case ActionType.CallSubOrchestratorWithRetry: {
        const isActivity = type === ActionType.CallActivity || type === ActionType.CallActivityWithRetry;
        const name = String(action.functionName ?? "");
        if (isActivity && !this.#activity(name)) return `The function '${name}' doesn't exist, is disabled, or is not an activity function.`;
        if (!isActivity && !this.#orchestrator(name)) return `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`;
        const id = state.nextId++;
        let groupId: number | undefined;
        if ((type === ActionType.CallActivityWithRetry || type === ActionType.CallSubOrchestratorWithRetry) && action.retryOptions) {
          groupId = id;
          state.retryGroups[groupId] = {
            kind: isActivity ? "activity" : "suborchestration",
            name,
            input: action.input,
            instanceId: action.instanceId,
            options: action.retryOptions,
            attemptNumber: 1,
            currentId: id,
            waitingOnTimer: false,
          };
          state.retryTaskGroups[id] = groupId;
        }
        const task = this.#newWork(state, isActivity ? "activity" : "suborchestration", name, action.input, action.instanceId, id, now, produced, groupId);
        state.scheduled.push({ actionType: type, name, id });
        state.open.push(task);
        toStart.push(task);
        break;
      }
      case ActionType.CreateTimer: {
        const id = state.nextId++;
        const fireAt = new Date(action.fireAt ?? now.toISOString()).toISOString();
        produced.push({ EventType: EventType.TimerCreated, EventId: id, IsPlayed: false, Timestamp: now.toISOString(), FireAt: fireAt });
        state.scheduled.push({ actionType: type, id });
        if (!action.isCanceled) {
          const timer: OpenTask = { kind: "timer", id, fireAt };
          state.open.push(timer);
          toStart.push(timer);
        }
        break;
      }
      case ActionType.WaitForExternalEvent:
        state.scheduled.push({ actionType: type, name: String(action.externalEventName ?? "") });
        break;
      default:
        return `The local Durable Functions engine does not support ${actionTypeNames[type] ?? `action type ${type}`} (orchestrator '${state.name}').`;
    }
    state.history.push(...produced);
    return undefined;
  }

  #newWork(
    state: InstanceState,
    kind: "activity" | "suborchestration",
    name: string,
    input: unknown,
    childInstanceId: string | undefined,
    id: number,
    now: Date,
    produced: HistoryEvent[],
    retryGroup: number | undefined,
  ): OpenTask {
    const timestamp = now.toISOString();
    if (kind === "activity") {
      // The library JSON-encodes string inputs itself; objects arrive as they are.
      const inputText = input === undefined ? undefined : typeof input === "string" ? input : JSON.stringify(input);
      produced.push({ EventType: EventType.TaskScheduled, EventId: id, IsPlayed: false, Timestamp: timestamp, Name: name, Input: inputText });
      return { kind: "activity", id, name, input: inputText, ...(retryGroup !== undefined ? { retryGroup } : {}) };
    }
    const childId = childInstanceId && childInstanceId !== "" ? childInstanceId : `${state.instanceId}:${id}`;
    produced.push({
      EventType: EventType.SubOrchestrationInstanceCreated,
      EventId: id,
      IsPlayed: false,
      Timestamp: timestamp,
      Name: name,
      InstanceId: childId,
      Input: JSON.stringify(input ?? null),
    });
    return { kind: "suborchestration", id, name, childId, input: input ?? null, ...(retryGroup !== undefined ? { retryGroup } : {}) };
  }

  #continueAsNew(state: InstanceState, input: unknown): void {
    let next = input;
    if (typeof input === "string") {
      try {
        next = JSON.parse(input);
      } catch {
        next = input;
      }
    }
    this.#cancelTimers(state);
    state.executionId = randomUUID().replace(/-/g, "");
    state.input = next === undefined ? null : next;
    state.output = null;
    state.status = "ContinuedAsNew";
    state.history = [];
    state.scheduled = [];
    state.nextId = 0;
    state.open = [];
    state.retryGroups = {};
    state.retryTaskGroups = {};
    // External events raised while the last episode ran carry over to the new execution, as in DurableTask.Core.
    state.pending = [this.#executionStarted(state), ...state.pending.filter((e) => e.EventType === EventType.EventRaised)];
    this.#touch(state);
    this.#save(state);
  }

  #fail(state: InstanceState, message: string): void {
    hostError(`Durable Functions: instance '${state.instanceId}' (${state.name}) failed: ${message}`);
    this.#finish(state, "Failed", message);
  }

  #finish(state: InstanceState, status: "Completed" | "Failed" | "Terminated", output: unknown): void {
    this.#cancelTimers(state);
    state.status = status;
    state.output = output === undefined ? null : output;
    state.open = [];
    state.pending = [];
    this.#touch(state);
    this.#save(state);
    const parent = state.parent;
    if (!parent) return;
    const event: HistoryEvent =
      status === "Completed"
        ? {
            EventType: EventType.SubOrchestrationInstanceCompleted,
            EventId: -1,
            IsPlayed: false,
            Timestamp: this.#now().toISOString(),
            TaskScheduledId: parent.taskId,
            Result: JSON.stringify(state.output ?? null),
          }
        : {
            EventType: EventType.SubOrchestrationInstanceFailed,
            EventId: -1,
            IsPlayed: false,
            Timestamp: this.#now().toISOString(),
            TaskScheduledId: parent.taskId,
            Reason: status === "Failed" ? String(state.output) : `Sub-orchestration '${state.instanceId}' was terminated: ${String(state.output ?? "")}`,
            Details: "",
          };
    this.#deliver(parent.instanceId, parent.taskId, event, state.instanceId);
  }

  /** Queues a completion for an instance's open task (dropped when that task is no longer open). */
  #deliver(instanceId: string, taskId: number, event: HistoryEvent, childId?: string): void {
    this.#run(instanceId, async () => {
      const state = this.#instances.get(instanceId);
      if (!state || isTerminal(state.status)) return;
      const open = state.open.find((t) => t.id === taskId && (childId === undefined || (t.kind === "suborchestration" && t.childId === childId)));
      if (!open) return;
      this.#dropOpen(state, taskId);
      state.pending.push(event);
      this.#save(state);
      await this.#episodes(instanceId);
    });
  }

  #dropOpen(state: InstanceState, id: number): void {
    state.open = state.open.filter((t) => t.id !== id);
    const key = `${state.instanceId}\n${state.executionId}\n${id}`;
    const timer = this.#timers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.#timers.delete(key);
    }
  }

  #cancelTimers(state: InstanceState): void {
    for (const task of state.open) if (task.kind === "timer") this.#dropOpen(state, task.id);
  }

  // ---- work: activities, timers, sub-orchestrations ----

  #startOpenTask(state: InstanceState, task: OpenTask): void {
    if (this.#stopped) return;
    if (task.kind === "activity") void this.#runActivity(state.instanceId, state.executionId, task);
    else if (task.kind === "timer") this.#armTimer(state, task.id, task.fireAt);
    else this.#startChild(state, task);
  }

  #armTimer(state: InstanceState, id: number, fireAt: string): void {
    const key = `${state.instanceId}\n${state.executionId}\n${id}`;
    const existing = this.#timers.get(key);
    if (existing) clearTimeout(existing);
    const delay = Date.parse(fireAt) - this.#clock(state).getTime();
    const handle = setTimeout(
      () => {
        this.#timers.delete(key);
        if (Date.parse(fireAt) - this.#clock(state).getTime() > 0) {
          this.#armTimer(state, id, fireAt); // a delay beyond setTimeout's range: wait again
          return;
        }
        this.#deliver(state.instanceId, id, {
          EventType: EventType.TimerFired,
          EventId: -1,
          IsPlayed: false,
          Timestamp: this.#clock(state).toISOString(),
          TimerId: id,
          FireAt: fireAt,
        });
      },
      Math.min(Math.max(delay, 0), maxTimeout),
    );
    this.#timers.set(key, handle);
  }

  async #runActivity(instanceId: string, executionId: string, task: Extract<OpenTask, { kind: "activity" }>): Promise<void> {
    const fn = this.#activity(task.name);
    let event: HistoryEvent;
    const base = { EventId: -1, IsPlayed: false, TaskScheduledId: task.id };
    if (!fn) {
      event = { ...base, EventType: EventType.TaskFailed, Timestamp: this.#now().toISOString(), Reason: `The function '${task.name}' doesn't exist.`, Details: "" };
    } else {
      try {
        const response = await this.#activitySlots.run(async () => {
          // Still queued when the runtime stopped: left open, so the next start runs it.
          if (this.#stopped) return undefined;
          return (
            await this.invoker.invoke(fn.name, {
              inputData: [{ name: fn.triggerName, data: task.input === undefined ? null : { string: task.input } }],
              reason: `Durable activity for orchestration instance '${instanceId}'`,
            })
          ).response;
        });
        if (!response) return;
        event = { ...base, EventType: EventType.TaskCompleted, Timestamp: this.#now().toISOString(), Result: resultJson(response.returnValue) };
      } catch (error) {
        const cause = error instanceof FunctionInvocationError ? error.cause : error;
        const message = cause instanceof Error ? cause.message : String(cause);
        event = {
          ...base,
          EventType: EventType.TaskFailed,
          Timestamp: this.#now().toISOString(),
          Reason: `Activity function '${task.name}' failed: ${message}`,
          Details: cause instanceof Error ? (cause.stack ?? "") : "",
        };
      }
    }
    const state = this.#instances.get(instanceId);
    if (!state || state.executionId !== executionId) return;
    this.#deliver(instanceId, task.id, event);
  }

  #startChild(parent: InstanceState, task: Extract<OpenTask, { kind: "suborchestration" }>): void {
    const child = this.#instances.get(task.childId);
    const parentRef = { instanceId: parent.instanceId, taskId: task.id, name: parent.name };
    if (child && child.parent?.instanceId === parent.instanceId && child.parent.taskId === task.id) {
      // Already created (a restart): deliver its result if it finished while nobody listened.
      if (isTerminal(child.status)) this.#finishNotify(child);
      return;
    }
    if (child && !isTerminal(child.status)) {
      this.#deliver(parent.instanceId, task.id, {
        EventType: EventType.SubOrchestrationInstanceFailed,
        EventId: -1,
        IsPlayed: false,
        Timestamp: this.#now().toISOString(),
        TaskScheduledId: task.id,
        Reason: `An Orchestration instance with the status ${child.status} already exists.`,
        Details: "",
      });
      return;
    }
    const fn = this.#orchestrator(task.name);
    if (!fn) return;
    this.#create(fn.name, task.childId, task.input, parentRef);
  }

  #finishNotify(child: InstanceState): void {
    this.#run(child.instanceId, () => {
      if (isTerminal(child.status) && child.parent) {
        const status = child.status as "Completed" | "Failed" | "Terminated";
        const parent = child.parent;
        const event: HistoryEvent =
          status === "Completed"
            ? { EventType: EventType.SubOrchestrationInstanceCompleted, EventId: -1, IsPlayed: false, Timestamp: this.#now().toISOString(), TaskScheduledId: parent.taskId, Result: JSON.stringify(child.output ?? null) }
            : { EventType: EventType.SubOrchestrationInstanceFailed, EventId: -1, IsPlayed: false, Timestamp: this.#now().toISOString(), TaskScheduledId: parent.taskId, Reason: String(child.output), Details: "" };
        this.#deliver(parent.instanceId, parent.taskId, event, child.instanceId);
      }
      return Promise.resolve();
    });
  }

  async #invokeOrchestrator(fn: RegisteredFunction, payload: object): Promise<{ state: OrchestratorStateJson } | { failure: string }> {
    try {
      const { response } = await this.invoker.invoke(fn.name, {
        inputData: [{ name: fn.triggerName, data: { json: JSON.stringify(payload) } }],
        reason: `Durable orchestration episode for instance '${(payload as { instanceId: string }).instanceId}'`,
      });
      const value = typedValue(response.returnValue);
      if (!value || typeof value !== "object" || !Array.isArray((value as OrchestratorStateJson).actions)) {
        return { failure: `Orchestrator function '${fn.name}' returned no orchestrator state (is it registered with df.app.orchestration?).` };
      }
      return { state: value as OrchestratorStateJson };
    } catch (error) {
      const cause = error instanceof FunctionInvocationError ? error.cause : error;
      const message = cause instanceof Error ? cause.message : String(cause);
      const at = message.indexOf(outOfProcLabel);
      if (at >= 0) {
        try {
          const state = JSON.parse(message.slice(at + outOfProcLabel.length)) as OrchestratorStateJson;
          if (state.error === undefined) state.error = message.slice(0, at).trim();
          return { state };
        } catch {
          // fall through
        }
      }
      return { failure: `Orchestrator function '${fn.name}' failed: ${message}` };
    }
  }
}

function flatten(actions: OrchestratorAction[][] | undefined): OrchestratorAction[] {
  const out: OrchestratorAction[] = [];
  const walk = (action: OrchestratorAction): void => {
    if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny) {
      for (const child of action.compoundActions ?? []) walk(child);
    } else out.push(action);
  };
  for (const group of actions ?? []) for (const action of group ?? []) walk(action);
  return out;
}

function actionName(action: OrchestratorAction): string | undefined {
  if (action.actionType === ActionType.WaitForExternalEvent) return action.externalEventName;
  if (action.actionType === ActionType.CreateTimer) return undefined;
  return action.functionName;
}

function describeItem(item: { actionType: number; name?: string | undefined }): string {
  const type = actionTypeNames[item.actionType] ?? `action ${item.actionType}`;
  return item.name ? `${type} '${item.name}'` : type;
}

function typedValue(data: RpcTypedData | null | undefined): unknown {
  if (!data) return undefined;
  if (data.json !== undefined && data.json !== null) return JSON.parse(data.json);
  if (data.string !== undefined && data.string !== null) return data.string;
  if (data.int !== undefined && data.int !== null) return Number(data.int);
  if (data.double !== undefined && data.double !== null) return data.double;
  if (data.bytes) return Buffer.from(data.bytes).toString("base64");
  return undefined;
}

/** An activity's return value as the JSON text TaskCompleted.Result carries. */
function resultJson(data: RpcTypedData | null | undefined): string {
  if (data?.json !== undefined && data.json !== null) return data.json;
  const value = typedValue(data);
  return JSON.stringify(value === undefined ? null : value);
}
