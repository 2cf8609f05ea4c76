import { fail, ok, type Result } from "../shared/result.js";

/** The longest body an announcement may have, in characters of Markdown. */
export const MAX_BODY_CHARS = 20_000;
/** How long the inbox, push and SMS preview of an announcement's text may be. */
export const PREVIEW_CHARS = 280;
// A publish time this far in the past is taken as "now" (the client's clock and the request's travel time).
const PAST_TOLERANCE_MS = 60_000;
const MAX_AHEAD_MS = 366 * 86_400_000;

export function checkBody(body: string): Result<string, "ANNOUNCEMENT_TOO_LONG"> {
  // Counted in code points, as a person counts characters (an emoji is one).
  const length = [...body].length;
  return length > MAX_BODY_CHARS ? fail("ANNOUNCEMENT_TOO_LONG", `The body has ${length} characters; at most ${MAX_BODY_CHARS} are allowed.`) : ok(body);
}

/**
 * When an announcement is published: now when no time is given, else the time given, which may lie at most a
 * minute in the past (then it is published now) and at most a year ahead.
 */
export function checkPublishAt(requested: Date | undefined, now: Date): Result<Date, "ANNOUNCEMENT_PUBLISH_AT_INVALID"> {
  if (requested === undefined) return ok(now);
  const delta = requested.getTime() - now.getTime();
  if (delta < -PAST_TOLERANCE_MS) return fail("ANNOUNCEMENT_PUBLISH_AT_INVALID", "publishAt lies in the past.");
  if (delta > MAX_AHEAD_MS) return fail("ANNOUNCEMENT_PUBLISH_AT_INVALID", "publishAt lies more than a year ahead.");
  return ok(delta <= 0 ? now : requested);
}

/** The preview of a body's text: at most `max` characters, cut at a word boundary where one is near. */
export function preview(text: string, max = PREVIEW_CHARS): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const cut = chars.slice(0, max - 1).join("");
  const space = cut.lastIndexOf(" ");
  return `${space > max * 0.6 ? cut.slice(0, space) : cut}…`;
}
