// The shapes the local Durable Functions engine keeps and speaks: DurableTask.Core history events (as the
// durable-functions library reads them), the library's actions, and the persisted instance state.

export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

export const eventTypeNames: Record<number, string> = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k]));

/** One history event in DurableTask.Core's JSON shape (PascalCase, as the extension sends it). */
export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  Input?: string;
  Result?: string;
  Reason?: string;
  Details?: string;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  InstanceId?: string;
  OrchestrationInstance?: { InstanceId: string; ExecutionId: string };
  ParentInstance?: { Name: string; OrchestrationInstance: { InstanceId: string }; TaskScheduleId: number } | null;
  Version?: string;
  OrchestrationStatus?: string;
}

export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

export const actionTypeNames: Record<number, string> = Object.fromEntries(Object.entries(ActionType).map(([k, v]) => [v, k]));

export interface RetryOptionsJson {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** An action as the library serialises it (schema V3: WhenAll/WhenAny carry `compoundActions`). */
export interface OrchestratorAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  retryOptions?: RetryOptionsJson;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  compoundActions?: OrchestratorAction[];
}

/** What the orchestrator function returns (or carries after `$OutOfProcData$:` when it fails). */
export interface OrchestratorStateJson {
  isDone: boolean;
  actions: OrchestratorAction[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion?: number;
}

export type RuntimeStatus = "Pending" | "Running" | "Completed" | "Failed" | "Terminated" | "ContinuedAsNew" | "Suspended";

export const terminalStatuses: readonly RuntimeStatus[] = ["Completed", "Failed", "Terminated"];

/** One atomic action the current execution has scheduled, in the order the orchestrator yielded them. */
export interface ScheduledItem {
  actionType: number;
  name?: string;
  /** Sequence id (absent for WaitForExternalEvent, which takes none). */
  id?: number;
}

/** Work the engine owes an instance: resumed after a restart. */
export type OpenTask =
  | { kind: "activity"; id: number; name: string; input: string | undefined; retryGroup?: number }
  | { kind: "timer"; id: number; fireAt: string; retryGroup?: number }
  | { kind: "suborchestration"; id: number; name: string; childId: string; input: unknown; retryGroup?: number };

export interface RetryGroup {
  kind: "activity" | "suborchestration";
  name: string;
  input: unknown;
  instanceId?: string;
  options: RetryOptionsJson;
  /** As the library counts: 1 for the first attempt, incremented on each failure. */
  attemptNumber: number;
  /** The id of the task the library currently waits on for this group. */
  currentId: number;
  /** True while the library waits on the retry timer (then `currentId` is the timer's id). */
  waitingOnTimer: boolean;
}

export interface InstanceState {
  instanceId: string;
  name: string;
  executionId: string;
  /** The input as a JSON value (null when none). */
  input: unknown;
  status: RuntimeStatus;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  parent?: { instanceId: string; taskId: number; name: string };
  /** The current execution's history, as the orchestrator last saw it plus the events its last episode produced. */
  history: HistoryEvent[];
  /** New events not yet seen by an episode, in arrival order. */
  pending: HistoryEvent[];
  scheduled: ScheduledItem[];
  nextId: number;
  open: OpenTask[];
  retryGroups: Record<string, RetryGroup>;
  /** Task id → retry group id, for every task (attempt or timer) that belongs to a retry group. */
  retryTaskGroups: Record<string, number>;
  suspendedReason?: string;
  /** How far the admin API moved this instance's clock ahead of real time (ms); absent: not moved. */
  clockOffsetMs?: number;
}

/** A new instance's state: what identifies it, nothing run or scheduled yet. */
export function newInstanceState(
  identity: Pick<InstanceState, "instanceId" | "name" | "executionId" | "input" | "status" | "createdTime"> & Pick<InstanceState, "parent">,
): InstanceState {
  return {
    ...identity,
    output: null,
    customStatus: null,
    lastUpdatedTime: identity.createdTime,
    history: [],
    pending: [],
    scheduled: [],
    nextId: 0,
    open: [],
    retryGroups: {},
    retryTaskGroups: {},
  };
}
