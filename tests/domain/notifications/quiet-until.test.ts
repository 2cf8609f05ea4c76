import { describe, expect, it } from "vitest";
import { quietUntil } from "../../../domain/notifications/notify.js";

const hours = (start: string, end: string, timeZone = "Europe/Madrid") => ({ quietHoursStart: start, quietHoursEnd: end, timeZone });
const at = (iso: string) => new Date(iso);
const iso = (d: Date | null) => d?.toISOString() ?? null;

describe("quietUntil", () => {
  it("is null outside the window, without a window, or with equal start and end", () => {
    expect(quietUntil(hours("22:00", "07:00"), at("2026-03-10T12:00:00Z"))).toBeNull();
    expect(quietUntil({ quietHoursStart: null, quietHoursEnd: null, timeZone: null }, at("2026-03-10T23:00:00Z"))).toBeNull();
    expect(quietUntil(hours("08:00", "08:00"), at("2026-03-10T07:30:00Z"))).toBeNull();
  });

  it("ends a window that wraps midnight the next morning before midnight, and the same morning after it", () => {
    // 23:30 in Madrid (UTC+1 in winter): quiet until 07:00 local next day = 06:00 UTC.
    expect(iso(quietUntil(hours("22:00", "07:00"), at("2026-01-10T22:30:00Z")))).toBe("2026-01-11T06:00:00.000Z");
    // 02:00 local: the same day's 07:00.
    expect(iso(quietUntil(hours("22:00", "07:00"), at("2026-01-11T01:00:00Z")))).toBe("2026-01-11T06:00:00.000Z");
    // The start is inside, the end is not.
    expect(iso(quietUntil(hours("22:00", "07:00"), at("2026-01-10T21:00:00Z")))).toBe("2026-01-11T06:00:00.000Z");
    expect(quietUntil(hours("22:00", "07:00"), at("2026-01-11T06:00:00Z"))).toBeNull();
  });

  it("ends a same-day window the same day", () => {
    expect(iso(quietUntil(hours("13:00", "15:30"), at("2026-01-10T13:00:00Z")))).toBe("2026-01-10T14:30:00.000Z");
  });

  it("ends at the local time on the far side of a DST change", () => {
    // Spring forward in Madrid: 2026-03-29 02:00 → 03:00 (UTC+1 → UTC+2). At 23:00 local the night before, 07:00
    // local is 05:00 UTC, seven wall-clock hours but six real ones later.
    expect(iso(quietUntil(hours("22:00", "07:00"), at("2026-03-28T22:00:00Z")))).toBe("2026-03-29T05:00:00.000Z");
    // Fall back: 2026-10-25 03:00 → 02:00 (UTC+2 → UTC+1): 07:00 local is 06:00 UTC.
    expect(iso(quietUntil(hours("22:00", "07:00"), at("2026-10-24T21:00:00Z")))).toBe("2026-10-25T06:00:00.000Z");
  });

  it("ends at the first valid minute when the end falls into the hour a spring-forward skips", () => {
    // New York skips 02:00–03:00 on 2026-03-08; a window ending 02:30 ends when the clocks show 03:30 (07:30 UTC).
    const end = quietUntil(hours("23:00", "02:30", "America/New_York"), at("2026-03-08T05:00:00Z"));
    expect(end).not.toBeNull();
    expect(end!.getTime()).toBeGreaterThan(at("2026-03-08T05:00:00Z").getTime());
    expect(end!.getTime()).toBeLessThanOrEqual(at("2026-03-08T07:30:00Z").getTime());
  });
});
