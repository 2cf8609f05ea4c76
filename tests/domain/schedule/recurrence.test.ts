import { describe, expect, it } from "vitest";
import { dayBefore, localInstant, localParts, type WeeklyRule, weeklyOccurrences } from "../../../domain/schedule/recurrence.js";

const limits = { maxOccurrences: 500, maxDays: 731 };
const rule = (over: Partial<WeeklyRule> = {}): WeeklyRule => ({
  weekdays: [1, 3],
  startTime: "10:00",
  durationMinutes: 90,
  timeZone: "Europe/Madrid",
  startsOn: "2026-10-19",
  until: "2026-11-04",
  exceptions: [],
  ...over,
});

const occurrences = (r: WeeklyRule, l = limits) => {
  const result = weeklyOccurrences(r, l);
  if (!result.ok) throw new Error(result.error.code);
  return result.value;
};

describe("weekly occurrences", () => {
  it("keeps 10:00 Madrid time across the autumn change (UTC moves from 08:00 to 09:00)", () => {
    const out = occurrences(rule());
    expect(out.map((o) => o.date)).toEqual(["2026-10-19", "2026-10-21", "2026-10-26", "2026-10-28", "2026-11-02", "2026-11-04"]);
    // Clocks go back on Sunday 25 October 2026.
    expect(out.map((o) => o.startsAt.toISOString().slice(11, 16))).toEqual(["08:00", "08:00", "09:00", "09:00", "09:00", "09:00"]);
    expect(out.every((o) => o.endsAt.getTime() - o.startsAt.getTime() === 90 * 60_000)).toBe(true);
    expect(out.every((o) => localParts(o.startsAt, "Europe/Madrid").time === "10:00")).toBe(true);
  });

  it("keeps local time across the spring change too, in another zone", () => {
    // New York springs forward on Sunday 8 March 2026: 09:30 local is 14:30 UTC before, 13:30 after.
    const out = occurrences(rule({ timeZone: "America/New_York", weekdays: [5], startTime: "09:30", startsOn: "2026-03-01", until: "2026-03-15" }));
    expect(out.map((o) => [o.date, o.startsAt.toISOString()])).toEqual([
      ["2026-03-06", "2026-03-06T14:30:00.000Z"],
      ["2026-03-13", "2026-03-13T13:30:00.000Z"],
    ]);
  });

  it("moves a wall-clock time the spring change skips forward by the gap", () => {
    // 02:30 does not exist in Madrid on 29 March 2026 (02:00 → 03:00).
    expect(localInstant("2026-03-29", "02:30", "Europe/Madrid").toISOString()).toBe("2026-03-29T01:30:00.000Z");
  });

  it("skips exception dates and ends on `until`, inclusive", () => {
    const out = occurrences(rule({ exceptions: ["2026-10-21", "2026-12-25"], until: "2026-10-28" }));
    expect(out.map((o) => o.date)).toEqual(["2026-10-19", "2026-10-26", "2026-10-28"]);
  });

  it("refuses a rule with more occurrences than the cap, or spanning more than the limit", () => {
    const many = weeklyOccurrences(rule({ weekdays: [1, 2, 3, 4, 5], startsOn: "2026-01-05", until: "2026-12-31" }), { maxOccurrences: 100, maxDays: 731 });
    expect(many.ok ? null : many.error.code).toBe("RECURRENCE_TOO_LONG");
    // 2026's weekdays from Monday 5 January: 261 in the year less Thursday 1 and Friday 2 January. The cap itself is allowed.
    expect(occurrences(rule({ weekdays: [1, 2, 3, 4, 5], startsOn: "2026-01-05", until: "2026-12-31" }), { maxOccurrences: 259, maxDays: 731 }).length).toBe(259);
    const long = weeklyOccurrences(rule({ startsOn: "2026-01-01", until: "2029-01-01" }), limits);
    expect(long.ok ? null : long.error.code).toBe("RECURRENCE_TOO_LONG");
  });

  it("refuses an unknown zone, an empty or bad weekday set, a bad time and an end before the start", () => {
    const code = (r: WeeklyRule) => {
      const result = weeklyOccurrences(r, limits);
      return result.ok ? "ok" : result.error.code;
    };
    expect(code(rule({ timeZone: "Mars/Olympus" }))).toBe("TIME_ZONE_UNKNOWN");
    expect(code(rule({ weekdays: [] }))).toBe("RECURRENCE_INVALID");
    expect(code(rule({ weekdays: [0] }))).toBe("RECURRENCE_INVALID");
    expect(code(rule({ weekdays: [8] }))).toBe("RECURRENCE_INVALID");
    expect(code(rule({ startTime: "24:00" }))).toBe("RECURRENCE_INVALID");
    expect(code(rule({ startTime: "9:00" }))).toBe("RECURRENCE_INVALID");
    expect(code(rule({ durationMinutes: 0 }))).toBe("RECURRENCE_INVALID");
    expect(code(rule({ until: "2026-10-18" }))).toBe("RECURRENCE_INVALID");
    expect(code(rule({ startsOn: "2026-02-30" }))).toBe("RECURRENCE_INVALID");
    expect(code(rule({ timeZone: "UTC" }))).toBe("ok");
  });

  it("gives the day before a local date, across months and years", () => {
    expect(dayBefore("2026-03-01")).toBe("2026-02-28");
    expect(dayBefore("2027-01-01")).toBe("2026-12-31");
  });
});
