import { describe, expect, it } from "vitest";
import { retryAfterSeconds, withinEditWindow } from "../../../domain/discussions/discussion-rules.js";
import { searchConfigFor } from "../../../domain/discussions/search-config.js";

describe("the edit window", () => {
  const posted = new Date("2026-03-01T10:00:00Z");
  const at = (minutes: number, seconds = 0) => new Date(posted.getTime() + minutes * 60_000 + seconds * 1000);

  it("lets the author edit until the window ends, not at its end", () => {
    expect(withinEditWindow(posted, posted, 30)).toBe(true);
    expect(withinEditWindow(posted, at(29, 59), 30)).toBe(true);
    expect(withinEditWindow(posted, at(30), 30)).toBe(false);
    expect(withinEditWindow(posted, at(31), 30)).toBe(false);
  });

  it("follows the configured length", () => {
    expect(withinEditWindow(posted, at(45), 60)).toBe(true);
    expect(withinEditWindow(posted, at(5), 1)).toBe(false);
  });
});

describe("the posting rate's Retry-After", () => {
  const started = new Date("2026-03-01T10:00:00Z");

  it("counts the seconds left of the minute, at least one", () => {
    expect(retryAfterSeconds(started, new Date("2026-03-01T10:00:15Z"))).toBe(45);
    expect(retryAfterSeconds(started, new Date("2026-03-01T10:00:59.500Z"))).toBe(1);
    expect(retryAfterSeconds(started, new Date("2026-03-01T10:01:30Z"))).toBe(1);
  });
});

describe("the text search configuration of a course language", () => {
  it("maps languages with a stemmer to theirs, by their base tag", () => {
    expect(searchConfigFor("es")).toBe("spanish");
    expect(searchConfigFor("es-MX")).toBe("spanish");
    expect(searchConfigFor("EN_gb")).toBe("english");
    expect(searchConfigFor("pt-BR")).toBe("portuguese");
  });

  it("falls back to simple for anything else", () => {
    expect(searchConfigFor("eu")).toBe("simple");
    expect(searchConfigFor("")).toBe("simple");
    expect(searchConfigFor("english'; drop table users; --")).toBe("simple");
  });
});
