// Where orchestration instances live between episodes: an append-only journal under a directory, or only in memory.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";
import type { InstanceState } from "./types.js";

export interface InstanceStore {
  readonly kind: "memory" | "directory";
  loadAll(): InstanceState[];
  save(state: InstanceState): void;
  remove(instanceId: string): void;
}

export class MemoryInstanceStore implements InstanceStore {
  readonly kind = "memory";
  loadAll(): InstanceState[] {
    return [];
  }
  save(): void {}
  remove(): void {}
}

/** One journal line: an instance's state without its history, and the history events appended since `from`. */
interface JournalRecord {
  id: string;
  /** Set when the instance was purged. */
  removed?: true;
  state?: Omit<InstanceState, "history">;
  /** Index in the execution's history where `history` starts (0: the whole history). */
  from?: number;
  history?: InstanceState["history"];
}

/**
 * Instances in one append-only journal under a directory (`instances/journal.jsonl`): each save appends one
 * line with the state and only the history events added since that instance's last line, so a save costs one
 * write() and never re-serialises the history (history only grows within an execution; continue-as-new starts
 * a new one). The last line of an instance wins. A line cut short by a crash is skipped. The journal is
 * compacted (one line per live instance, written to a temp file and renamed) at start and whenever it has grown
 * to several times its compacted size. One JSON file per instance, as earlier versions kept them, is read once
 * and folded into the journal.
 */
export class DirectoryInstanceStore implements InstanceStore {
  readonly kind = "directory";
  readonly #dir: string;
  readonly #journal: string;
  #fd: number | undefined;
  /** Per instance: the execution and history length its journal lines cover. */
  readonly #written = new Map<string, { executionId: string; length: number }>();
  /** The states saved, by id (the engine's live objects): what a compaction writes. */
  readonly #live = new Map<string, InstanceState>();
  #bytes = 0;
  #compactedBytes = 0;

  constructor(dir: string) {
    // Created on the first save, so an app without orchestrations gets no directory.
    this.#dir = path.join(dir, "instances");
    this.#journal = path.join(this.#dir, "journal.jsonl");
  }

  get directory(): string {
    return this.#dir;
  }

  loadAll(): InstanceState[] {
    if (!existsSync(this.#dir)) return [];
    const states = new Map<string, InstanceState>();
    const legacy: string[] = [];
    for (const name of readdirSync(this.#dir).sort()) {
      if (!name.endsWith(".json")) continue;
      legacy.push(name);
      try {
        const state = JSON.parse(readFileSync(path.join(this.#dir, name), "utf8")) as InstanceState;
        states.set(state.instanceId, state);
      } catch {
        // A file that cannot be read is skipped (the temp-file rename kept this from happening on crashes).
      }
    }
    if (existsSync(this.#journal)) {
      for (const line of readFileSync(this.#journal, "utf8").split("\n")) {
        if (line === "") continue;
        let record: JournalRecord;
        try {
          record = JSON.parse(line) as JournalRecord;
        } catch {
          continue; // cut short by a crash
        }
        if (record.removed) {
          states.delete(record.id);
          continue;
        }
        if (!record.state) continue;
        const before = states.get(record.id);
        const kept = record.from && before && before.executionId === record.state.executionId ? before.history.slice(0, record.from) : [];
        states.set(record.id, { ...record.state, history: [...kept, ...(record.history ?? [])] });
      }
    }
    for (const state of states.values()) this.#live.set(state.instanceId, state);
    this.#compact();
    for (const name of legacy) rmSync(path.join(this.#dir, name), { force: true });
    return [...states.values()];
  }

  save(state: InstanceState): void {
    const written = this.#written.get(state.instanceId);
    const from = written && written.executionId === state.executionId && written.length <= state.history.length ? written.length : 0;
    const { history, ...rest } = state;
    this.#append({ id: state.instanceId, state: rest, from, history: history.slice(from) });
    this.#written.set(state.instanceId, { executionId: state.executionId, length: history.length });
    this.#live.set(state.instanceId, state);
    // Compaction keeps start-up reads short; it also rewrites the live instances' histories once.
    if (this.#bytes > 8 * 1024 * 1024 && this.#bytes > 4 * this.#compactedBytes) this.#compact();
  }

  remove(instanceId: string): void {
    if (!this.#live.delete(instanceId)) return;
    this.#written.delete(instanceId);
    this.#append({ id: instanceId, removed: true });
  }

  #append(record: JournalRecord): void {
    if (this.#fd === undefined) {
      mkdirSync(this.#dir, { recursive: true });
      this.#fd = openSync(this.#journal, "a");
    }
    const line = `${JSON.stringify(record)}\n`;
    // One write() per line: a process killed mid-save leaves at most a cut-off last line, which loading skips.
    writeSync(this.#fd, line);
    this.#bytes += Buffer.byteLength(line);
  }

  #compact(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    if (this.#live.size === 0 && !existsSync(this.#journal)) return;
    mkdirSync(this.#dir, { recursive: true });
    const temp = `${this.#journal}.${process.pid}.tmp`;
    const lines: string[] = [];
    this.#written.clear();
    for (const state of this.#live.values()) {
      const { history, ...rest } = state;
      lines.push(`${JSON.stringify({ id: state.instanceId, state: rest, from: 0, history } satisfies JournalRecord)}\n`);
      this.#written.set(state.instanceId, { executionId: state.executionId, length: history.length });
    }
    const text = lines.join("");
    writeFileSync(temp, text);
    renameSync(temp, this.#journal);
    this.#bytes = this.#compactedBytes = Buffer.byteLength(text);
    this.#fd = openSync(this.#journal, "a");
  }
}
