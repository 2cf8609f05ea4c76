import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ScheduleStatusStore } from "../src/timer-schedule-store.js";

const status = { Last: "2026-01-01T00:00:00.000Z", Next: "2026-01-01T00:01:00.000Z", LastUpdated: "2026-01-01T00:00:00.000Z" };
const dir = mkdtempSync(path.join(tmpdir(), "timer-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("timer schedule status store", () => {
  it("keeps a status on disk, where the next runtime of the app finds it", () => {
    new ScheduleStatusStore(dir).write("nightly", status);
    expect(new ScheduleStatusStore(dir).read("nightly")).toEqual(status);
  });

  it("with LOCAL_TIMER_DATA=memory keeps it in this store alone: a new store (a new start) has none, and no file is written", () => {
    const store = new ScheduleStatusStore("memory");
    store.write("nightly", status);
    expect(store.read("nightly")).toEqual(status);
    expect(new ScheduleStatusStore("memory").read("nightly")).toBeUndefined();
    expect(existsSync(path.resolve("memory"))).toBe(false);
  });
});
