import { DateTime, IANAZone } from "luxon";
import { fail, ok, type Result } from "../shared/result.js";

/** A weekly rule as stored on `session_series`: wall-clock time in a zone, on ISO weekdays, between two local dates. */
export interface WeeklyRule {
  /** ISO weekdays, 1 = Monday … 7 = Sunday */
  weekdays: readonly number[];
  /** "HH:MM", local time in `timeZone` */
  startTime: string;
  durationMinutes: number;
  timeZone: string;
  /** local dates "YYYY-MM-DD", both inclusive */
  startsOn: string;
  until: string;
  /** local dates without an occurrence */
  exceptions: readonly string[];
}

export interface Occurrence {
  /** the local date of the occurrence in the rule's zone */
  date: string;
  startsAt: Date;
  endsAt: Date;
}

export interface RecurrenceLimits {
  maxOccurrences: number;
  /** the longest span from the first date to `until` */
  maxDays: number;
}

/** About two years: a rule spans one term or one school year, not forever. */
export const MAX_RULE_DAYS = 731;

export type RecurrenceErrorCode = "TIME_ZONE_UNKNOWN" | "RECURRENCE_INVALID" | "RECURRENCE_TOO_LONG";

const isKnownZone = (zone: string): boolean => IANAZone.isValidZone(zone) && !/^(utc|gmt)?[+-]/i.test(zone);

const timePattern = /^([01]\d|2[0-3]):([0-5]\d)$/;
const localDate = (iso: string, zone: string) => DateTime.fromISO(iso, { zone });

/**
 * The instant a wall-clock time on a local date is, in a zone. A time that does not exist that day (the hour
 * skipped when clocks go forward) moves forward by the gap, as luxon does; a time that happens twice (clocks go
 * back) is its first, summer-time, instance.
 */
export function localInstant(date: string, time: string, zone: string): Date {
  const [h, m] = time.split(":").map(Number);
  return DateTime.fromISO(date, { zone }).set({ hour: h, minute: m, second: 0, millisecond: 0 }).toJSDate();
}

/** Checks a one-off session's local start: a real zone and an "HH:MM" time. */
export function checkZoneAndTime(zone: string, time: string): Result<null, RecurrenceErrorCode> {
  if (!isKnownZone(zone)) return fail("TIME_ZONE_UNKNOWN", `${zone} is not an IANA time zone (like Europe/Madrid).`);
  if (!timePattern.test(time)) return fail("RECURRENCE_INVALID", "The start time is HH:MM, 00:00 to 23:59.");
  return ok(null);
}

/**
 * Every occurrence of a weekly rule, computed in its zone so that 10:00 stays 10:00 local across daylight-saving
 * changes (the UTC instant moves by the offset change). A rule must end: more than `maxOccurrences` occurrences
 * or a span longer than `maxDays` is refused, as are an empty weekday set, a bad time, an unknown zone and an
 * `until` before the first date. Exception dates outside the rule are ignored.
 */
export function weeklyOccurrences(rule: WeeklyRule, limits: RecurrenceLimits): Result<Occurrence[], RecurrenceErrorCode> {
  const checked = checkZoneAndTime(rule.timeZone, rule.startTime);
  if (!checked.ok) return checked;
  const weekdays = new Set(rule.weekdays);
  if (weekdays.size === 0 || [...weekdays].some((d) => !Number.isInteger(d) || d < 1 || d > 7)) return fail("RECURRENCE_INVALID", "Give one or more weekdays, 1 (Monday) to 7 (Sunday).");
  if (!Number.isInteger(rule.durationMinutes) || rule.durationMinutes < 1 || rule.durationMinutes > 1440) return fail("RECURRENCE_INVALID", "The duration is 1 to 1440 minutes.");
  const first = localDate(rule.startsOn, rule.timeZone);
  const last = localDate(rule.until, rule.timeZone);
  if (!first.isValid || !last.isValid) return fail("RECURRENCE_INVALID", "startsOn and until are dates (YYYY-MM-DD).");
  if (last < first) return fail("RECURRENCE_INVALID", "until is before startsOn.");
  const days = Math.round(last.diff(first, "days").days);
  if (days > limits.maxDays) return fail("RECURRENCE_TOO_LONG", `A rule spans at most ${limits.maxDays} days; this one spans ${days}. Make one series per term.`);
  const skipped = new Set(rule.exceptions);
  const out: Occurrence[] = [];
  for (let day = first; day <= last; day = day.plus({ days: 1 })) {
    const date = day.toISODate() as string;
    if (!weekdays.has(day.weekday) || skipped.has(date)) continue;
    if (out.length === limits.maxOccurrences) {
      return fail("RECURRENCE_TOO_LONG", `A rule has at most ${limits.maxOccurrences} occurrences; end it earlier or split it.`);
    }
    const startsAt = localInstant(date, rule.startTime, rule.timeZone);
    out.push({ date, startsAt, endsAt: new Date(startsAt.getTime() + rule.durationMinutes * 60_000) });
  }
  return ok(out);
}

/** The local date a day before `date` (where a split series' earlier half ends). */
export const dayBefore = (date: string): string => DateTime.fromISO(date, { zone: "UTC" }).minus({ days: 1 }).toISODate() as string;

/** The local "HH:MM" and date of an instant in a zone. */
export function localParts(at: Date, zone: string): { date: string; time: string } {
  const dt = DateTime.fromJSDate(at, { zone });
  return { date: dt.toISODate() as string, time: dt.toFormat("HH:mm") };
}
