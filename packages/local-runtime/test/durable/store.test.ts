// The directory instance store: an append-only journal whose lines carry only the history added since the
// instance's last line, read back whole after a restart (including a line cut short by SIGKILL).
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DirectoryInstanceStore } from "../../src/durable/store.js";
import { EventType, type HistoryEvent, type InstanceState, newInstanceState } from "../../src/durable/types.js";

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), "durable-store-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const event = (type: number, id = -1): HistoryEvent => ({ EventType: type, EventId: id, IsPlayed: false, Timestamp: "2026-01-01T00:00:00.000Z" });

function instance(id: string, executionId = "e1"): InstanceState {
  return newInstanceState({ instanceId: id, name: "chain", executionId, input: { n: 1 }, status: "Running", createdTime: "2026-01-01T00:00:00.000Z" });
}

const journalLines = (dir: string): string[] => readFileSync(path.join(dir, "instances", "journal.jsonl"), "utf8").split("\n").filter(Boolean);

describe("DirectoryInstanceStore", () => {
  it("appends only new history per save and restores whole instances", () => {
    const dir = tempDir();
    const store = new DirectoryInstanceStore(dir);
    expect(store.loadAll()).toEqual([]);
    const a = instance("a");
    a.history.push(event(EventType.OrchestratorStarted), event(EventType.ExecutionStarted));
    store.save(a);
    a.history.push(event(EventType.TaskScheduled, 0));
    a.status = "Running";
    store.save(a);
    const lines = journalLines(dir).map((l) => JSON.parse(l) as { from: number; history: unknown[] });
    expect(lines.map((l) => [l.from, l.history.length])).toEqual([
      [0, 2],
      [2, 1],
    ]);
    const b = instance("b");
    store.save(b);
    a.status = "Completed";
    store.save(a);

    const restored = new DirectoryInstanceStore(dir).loadAll();
    expect(restored.find((s) => s.instanceId === "a")).toEqual(a);
    expect(restored.find((s) => s.instanceId === "b")).toEqual(b);
    // Loading compacts: one line per instance.
    expect(journalLines(dir)).toHaveLength(2);
  });

  it("starts a new history on continue-as-new, forgets purged instances and skips a line cut short", () => {
    const dir = tempDir();
    const store = new DirectoryInstanceStore(dir);
    store.loadAll();
    const a = instance("a");
    a.history.push(event(EventType.ExecutionStarted), event(EventType.TaskScheduled, 0));
    store.save(a);
    a.executionId = "e2";
    a.history = [event(EventType.ExecutionStarted)];
    store.save(a);
    const gone = instance("gone");
    store.save(gone);
    store.remove("gone");
    appendFileSync(path.join(dir, "instances", "journal.jsonl"), '{"id":"a","state":{"instanceId":"a","sta');

    const restored = new DirectoryInstanceStore(dir).loadAll();
    expect(restored).toHaveLength(1);
    expect(restored[0]).toMatchObject({ instanceId: "a", executionId: "e2" });
    expect(restored[0]?.history).toHaveLength(1);
  });

  it("folds the one-file-per-instance layout of earlier versions into the journal", () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, "instances"), { recursive: true });
    const old = instance("job-1");
    old.history.push(event(EventType.ExecutionStarted));
    writeFileSync(path.join(dir, "instances", `${encodeURIComponent(old.instanceId)}.json`), JSON.stringify(old));
    const restored = new DirectoryInstanceStore(dir).loadAll();
    expect(restored).toEqual([old]);
    expect(readdirSync(path.join(dir, "instances"))).toEqual(["journal.jsonl"]);
    expect(existsSync(path.join(dir, "instances", "job-1.json"))).toBe(false);
    expect(new DirectoryInstanceStore(dir).loadAll()).toEqual([old]);
  });
});
