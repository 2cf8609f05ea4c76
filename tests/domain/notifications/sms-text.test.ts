import { describe, expect, it } from "vitest";
import { smsText } from "../../../domain/notifications/notify.js";

describe("smsText", () => {
  it("clips a long title and keeps the link whole", () => {
    const url = "https://ringlet.example/courses/0b6f2c1e-3c1a-4f8e-9d2b-7a0c5e4d3f21/announcements/5d1e6a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b";
    const text = smsText("T".repeat(400), url);
    expect(text.length).toBeLessThanOrEqual(320);
    expect(text.endsWith(` ${url}`)).toBe(true);
    expect(text).toContain("…");
    expect(smsText("Short", url)).toBe(`Short ${url}`);
    expect(smsText("x".repeat(400), null)).toHaveLength(320);
  });
});
