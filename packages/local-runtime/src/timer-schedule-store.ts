// Schedule status per timer, kept on disk like the host's schedule monitor keeps it in blob storage
// (azure-webjobs-hosts/timers/...), so a run missed while the runtime was down is noticed at the next start.
import { mkdirSync, readFileSync, writeFileSync, renameSync, existsSync } from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";

export interface ScheduleStatus {
  Last: string;
  Next: string;
  LastUpdated: string;
}

/** .NET's default(DateTime), which the host stores as "Last" before the first run. */
export const neverRun = "0001-01-01T00:00:00.000Z";

export class ScheduleStatusStore {
  /** `memory` (LOCAL_TIMER_DATA=memory): statuses live as long as this process, like a fresh deployment's. */
  readonly #memory = new Map<string, ScheduleStatus>();

  constructor(private readonly directory: string) {}

  #file(timerName: string): string {
    return path.join(this.directory, `${timerName.replace(/[^A-Za-z0-9._-]/g, "_")}.json`);
  }

  read(timerName: string): ScheduleStatus | undefined {
    if (this.directory === "memory") return this.#memory.get(timerName);
    const file = this.#file(timerName);
    if (!existsSync(file)) return undefined;
    try {
      const status = JSON.parse(readFileSync(file, "utf8")) as Partial<ScheduleStatus>;
      if (typeof status.Last === "string" && typeof status.Next === "string" && typeof status.LastUpdated === "string") {
        return status as ScheduleStatus;
      }
    } catch {
      // A torn or hand-edited file is treated as "no status", as the host does with an unreadable blob.
    }
    return undefined;
  }

  write(timerName: string, status: ScheduleStatus): void {
    if (this.directory === "memory") {
      this.#memory.set(timerName, status);
      return;
    }
    mkdirSync(this.directory, { recursive: true });
    const file = this.#file(timerName);
    // A temp name of this process and write alone: runtimes sharing an app root (tests, a second terminal)
    // must not rename each other's half-written files.
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    writeFileSync(tmp, JSON.stringify(status, null, 2));
    renameSync(tmp, file);
  }
}
