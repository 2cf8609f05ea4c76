// Timer triggers: 6-field NCRONTAB schedules in UTC, runOnStartup, one run of a timer at a time, and the
// schedule monitor's past-due detection at start.
import { Cron } from "croner";
import { hostError, hostLog } from "./log.js";
import { neverRun, type ScheduleStatus, type ScheduleStatusStore } from "./timer-schedule-store.js";
import type { RegisteredFunction } from "./function-host.js";
import type { Invoker } from "./invoke.js";
import type { TriggerModule } from "./trigger-module.js";

interface TimerEntry {
  fn: RegisteredFunction;
  schedule: string;
  cron: Cron;
  runOnStartup: boolean;
  useMonitor: boolean;
  status: ScheduleStatus;
  /** The run under way, so ticks skip and admin runs queue behind it. */
  running: Promise<void> | undefined;
}

export class TimerTriggerModule implements TriggerModule {
  readonly triggerType = "timerTrigger";
  readonly #timers = new Map<string, TimerEntry>();
  #stopped = false;

  constructor(
    private readonly invoker: Invoker,
    private readonly store: ScheduleStatusStore,
  ) {}

  /** Registers an enabled timer with its resolved schedule; a bad schedule puts only that function in error. */
  add(fn: RegisteredFunction, resolvedTrigger: Record<string, unknown>): boolean {
    const schedule = String(resolvedTrigger.schedule ?? "");
    let cron: Cron;
    try {
      if (schedule.trim().split(/\s+/).length !== 6) {
        throw new Error(`'${schedule}' is not a 6-field NCRONTAB expression ({second} {minute} {hour} {day} {month} {day-of-week}).`);
      }
      cron = new Cron(schedule, { timezone: "UTC", mode: "6-part", paused: true });
    } catch (error) {
      hostError(`The '${fn.name}' function is in error: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
    const [first, second] = cron.nextRuns(2);
    // Documented host default: monitor schedules that recur at most once a minute, not faster ones.
    const recursSlowly = !first || !second || second.getTime() - first.getTime() >= 60_000;
    this.#timers.set(fn.name, {
      fn,
      schedule,
      cron,
      runOnStartup: resolvedTrigger.runOnStartup === true,
      useMonitor: typeof resolvedTrigger.useMonitor === "boolean" ? resolvedTrigger.useMonitor : recursSlowly,
      status: { Last: neverRun, Next: iso(cron.nextRun()), LastUpdated: iso(new Date()) },
      running: undefined,
    });
    return true;
  }

  describe(fn: RegisteredFunction): string {
    const entry = this.#timers.get(fn.name);
    return `timerTrigger (${entry?.schedule ?? String(fn.trigger.schedule)})`;
  }

  async start(): Promise<void> {
    const now = new Date();
    for (const entry of this.#timers.values()) {
      const pastDue = entry.useMonitor ? this.#checkPastDue(entry, now) : undefined;
      if (pastDue) void this.#run(entry, { isPastDue: true, scheduledAt: pastDue, reason: "Timer is past due" });
      else if (entry.runOnStartup) void this.#run(entry, { isPastDue: false, scheduledAt: now, reason: "Timer fired at startup" });
      entry.cron = new Cron(entry.schedule, { timezone: "UTC", mode: "6-part" }, () => {
        void this.#tick(entry);
      });
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const entry of this.#timers.values()) entry.cron.stop();
  }

  /** Admin-fired runs wait for a run under way instead of overlapping it. */
  async runAdminInvocation(fn: RegisteredFunction): Promise<void> {
    const entry = this.#timers.get(fn.name);
    if (!entry) {
      // A disabled or broken timer is still invocable through the admin API, as with the host.
      await this.invoker.invoke(fn.name, { inputData: [{ name: fn.triggerName, data: timerInput(undefined, false) }] });
      return;
    }
    while (entry.running) await entry.running.catch(() => undefined);
    await this.#run(entry, { isPastDue: false, scheduledAt: new Date(), reason: "This function was programmatically called via the host APIs." });
  }

  /** The schedule monitor's check: returns the missed occurrence when the last expected run is in the past. */
  #checkPastDue(entry: TimerEntry, now: Date): Date | undefined {
    const stored = this.store.read(entry.fn.name);
    if (!stored) {
      this.store.write(entry.fn.name, entry.status);
      return undefined;
    }
    entry.status = stored;
    const expected = stored.Last === neverRun ? new Date(stored.Next) : entry.cron.nextRun(new Date(stored.Last));
    if (!expected || Number.isNaN(expected.getTime())) return undefined;
    if (stored.Last !== neverRun && iso(expected) !== stored.Next) {
      // The schedule changed since the status was written: re-base on the new schedule, not past due.
      entry.status = { ...stored, Next: iso(expected), LastUpdated: iso(now) };
      this.store.write(entry.fn.name, entry.status);
    }
    return now.getTime() > expected.getTime() ? expected : undefined;
  }

  async #tick(entry: TimerEntry): Promise<void> {
    if (this.#stopped) return;
    if (entry.running) {
      hostLog(`Timer '${entry.fn.name}' is still running; skipping the occurrence at ${iso(new Date())}.`);
      return;
    }
    await this.#run(entry, { isPastDue: false, scheduledAt: new Date(), reason: `Timer fired at ${iso(new Date())}` });
  }

  #run(entry: TimerEntry, opts: { isPastDue: boolean; scheduledAt: Date; reason: string }): Promise<void> {
    if (entry.running) return entry.running;
    const run = (async () => {
      try {
        await this.invoker.invoke(entry.fn.name, {
          inputData: [{ name: entry.fn.triggerName, data: timerInput(entry.status, opts.isPastDue) }],
          reason: opts.reason,
        });
      } catch {
        // Failure already logged by the invoker; a failed run still counts as the occurrence, as with the host.
      } finally {
        const now = new Date();
        entry.status = { Last: iso(opts.scheduledAt), Next: iso(entry.cron.nextRun(now)), LastUpdated: iso(now) };
        if (entry.useMonitor) this.store.write(entry.fn.name, entry.status);
        entry.running = undefined;
      }
    })();
    entry.running = run;
    return run;
  }
}

function iso(date: Date | null | undefined): string {
  return (date ?? new Date(0)).toISOString();
}

/** TimerInfo as the host serialises it (PascalCase); the library camel-cases it into the Timer object. */
function timerInput(status: ScheduleStatus | undefined, isPastDue: boolean): { json: string } {
  return {
    json: JSON.stringify({ Schedule: { AdjustForDST: true }, ScheduleStatus: status ?? null, IsPastDue: isPastDue }),
  };
}
