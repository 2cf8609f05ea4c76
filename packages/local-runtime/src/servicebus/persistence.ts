// Durability for the local broker: an append-only log of JSON lines (one per state change), written with a
// synchronous write before the broker acknowledges anything, replayed at start and then compacted into a
// snapshot (written to a temporary file, fsynced and renamed over the log).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import path from "node:path";

/** A stored message as the log records it: the AMQP-encoded message plus the broker's own state. */
export interface StoredMessageRecord {
  seq: number;
  /** Base64 of the AMQP-encoded message (as the sender sent it, plus broker changes to its properties). */
  raw: string;
  enqueuedAt: number;
  expiresAt?: number;
  /** Deliveries so far (the AMQP header's delivery-count of the next delivery). */
  deliveries: number;
  state: "active" | "deferred" | "scheduled";
  scheduledAt?: number;
}

export type LogRecord =
  | { t: "enq"; q: string; m: StoredMessageRecord }
  | { t: "del"; q: string; seq: number }
  | { t: "upd"; q: string; seq: number; deliveries?: number; state?: StoredMessageRecord["state"]; raw?: string }
  | { t: "dup"; e: string; id: string; at: number }
  | { t: "seq"; q: string; n: number };

export interface BrokerStore {
  append(record: LogRecord): void;
  /** Replays every record once (at start). */
  load(): LogRecord[];
  /** Replaces the log with the given records (a snapshot of the live state). */
  compact(records: LogRecord[]): void;
  /** Appends since the last compaction, to decide when to compact again. */
  readonly appendsSinceCompaction: number;
  close(): void;
}

export class MemoryStore implements BrokerStore {
  appendsSinceCompaction = 0;
  append(): void {}
  load(): LogRecord[] {
    return [];
  }
  compact(): void {}
  close(): void {}
}

export class FileStore implements BrokerStore {
  readonly #file: string;
  #fd: number | undefined;
  appendsSinceCompaction = 0;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.#file = path.join(dir, "messages.log");
  }

  load(): LogRecord[] {
    if (!existsSync(this.#file)) return [];
    const records: LogRecord[] = [];
    const lines = readFileSync(this.#file, "utf8").split("\n");
    for (const [index, line] of lines.entries()) {
      if (line.trim() === "") continue;
      try {
        records.push(JSON.parse(line) as LogRecord);
      } catch {
        // Only the last line can be torn by a crash mid-write; anything else is corruption worth reporting.
        if (index < lines.length - 2) throw new Error(`${this.#file}: line ${index + 1} is not valid JSON.`);
      }
    }
    return records;
  }

  append(record: LogRecord): void {
    this.#fd ??= openSync(this.#file, "a");
    writeSync(this.#fd, `${JSON.stringify(record)}\n`);
    this.appendsSinceCompaction += 1;
  }

  compact(records: LogRecord[]): void {
    const tmp = `${this.#file}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      const chunk: string[] = [];
      for (const record of records) {
        chunk.push(JSON.stringify(record));
        if (chunk.length >= 500) writeSync(fd, `${chunk.splice(0).join("\n")}\n`);
      }
      if (chunk.length > 0) writeSync(fd, `${chunk.join("\n")}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    renameSync(tmp, this.#file);
    this.appendsSinceCompaction = 0;
  }

  close(): void {
    if (this.#fd !== undefined) {
      fsyncSync(this.#fd);
      closeSync(this.#fd);
      this.#fd = undefined;
    }
  }
}
