import { describe, expect, it } from "vitest";
import { checkBody, checkPublishAt, MAX_BODY_CHARS, preview } from "../../../domain/announcements/announcement-rules.js";

const now = new Date("2026-12-06T12:00:00Z");
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

describe("announcement rules", () => {
  it("publishes now when no time is given or the time is up to a minute past", () => {
    expect(checkPublishAt(undefined, now)).toEqual({ ok: true, value: now });
    expect(checkPublishAt(at(-59_000), now)).toEqual({ ok: true, value: now });
    expect(checkPublishAt(at(0), now)).toEqual({ ok: true, value: now });
  });

  it("schedules a later time, up to a year ahead", () => {
    expect(checkPublishAt(at(60_000), now)).toEqual({ ok: true, value: at(60_000) });
    expect(checkPublishAt(at(365 * 86_400_000), now).ok).toBe(true);
  });

  it("refuses a time more than a minute past or more than a year ahead", () => {
    expect(checkPublishAt(at(-61_000), now)).toMatchObject({ ok: false, error: { code: "ANNOUNCEMENT_PUBLISH_AT_INVALID" } });
    expect(checkPublishAt(at(367 * 86_400_000), now)).toMatchObject({ ok: false, error: { code: "ANNOUNCEMENT_PUBLISH_AT_INVALID" } });
  });

  it("counts the body's characters as people do (an emoji is one) and refuses more than the limit", () => {
    expect(checkBody("🎉".repeat(MAX_BODY_CHARS)).ok).toBe(true);
    expect(checkBody("a".repeat(MAX_BODY_CHARS + 1))).toMatchObject({ ok: false, error: { code: "ANNOUNCEMENT_TOO_LONG" } });
  });

  it("previews long text at a word boundary, short text as it is", () => {
    expect(preview("Short text")).toBe("Short text");
    const clipped = preview(`${"word ".repeat(100)}end`, 50);
    expect([...clipped].length).toBeLessThanOrEqual(50);
    expect(clipped).toMatch(/word…$/);
    // No space near the end: cut at the limit.
    expect(preview("x".repeat(100), 10)).toBe(`${"x".repeat(9)}…`);
  });
});
