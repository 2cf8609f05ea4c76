import { randomBytes } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import { DateTime } from "luxon";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import { calendarFeeds, users } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { hashToken } from "../shared/token-hash.js";
import { scheduleOf } from "./my-schedule.js";

/** What a feed carries: ~30 days back to ~a year ahead, at most this many sessions and due dates each. */
const FEED_DAYS_BACK = 30;
const FEED_DAYS_AHEAD = 366 - FEED_DAYS_BACK;
const FEED_LIMIT = 5000;

export interface FeedStatus {
  active: boolean;
  createdAt: Date | null;
  lastFetchedAt: Date | null;
}

/** Serialises one user's feed changes, so two creates cannot both find no live feed and both insert one. */
const lockUserFeeds = (db: Executor, userId: string) => db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`calendar-feed:${userId}`}, 0))`);

/** Revokes the user's live feed (under lockUserFeeds): the revoked rows' ids, none when there was no live feed. */
const revokeLive = (db: Executor, userId: string, now: Date) =>
  db
    .update(calendarFeeds)
    .set({ revokedAt: now })
    .where(and(eq(calendarFeeds.userId, userId), isNull(calendarFeeds.revokedAt)))
    .returning({ id: calendarFeeds.id });

/**
 * Makes the user a new secret feed token (32 random bytes, base64url), revoking the one they had: the old URL
 * stops working at once. Only the token's hash is stored; the token is answered once. Audited.
 */
export async function createCalendarFeed(ctx: DomainContext, userId: string): Promise<{ token: string; createdAt: Date; replaced: boolean }> {
  await lockUserFeeds(ctx.db, userId);
  const now = ctx.now();
  const revoked = await revokeLive(ctx.db, userId, now);
  const token = randomBytes(32).toString("base64url");
  const id = ctx.newId();
  await ctx.db.insert(calendarFeeds).values({ id, userId, tokenHash: hashToken(token), createdAt: now });
  await recordAudit(ctx, { action: "calendar-feed.created", targetType: "user", targetId: userId, details: { feedId: id, replaced: revoked.length > 0 } });
  return { token, createdAt: now, replaced: revoked.length > 0 };
}

/** Revokes the user's live feed; false when they had none. Audited. */
export async function revokeCalendarFeed(ctx: DomainContext, userId: string): Promise<boolean> {
  await lockUserFeeds(ctx.db, userId);
  const revoked = await revokeLive(ctx.db, userId, ctx.now());
  if (revoked.length === 0) return false;
  await recordAudit(ctx, { action: "calendar-feed.revoked", targetType: "user", targetId: userId, details: { feedId: revoked[0]?.id } });
  return true;
}

export async function calendarFeedStatus(db: Executor, userId: string): Promise<FeedStatus> {
  const [row] = await db
    .select({ createdAt: calendarFeeds.createdAt, lastFetchedAt: calendarFeeds.lastFetchedAt })
    .from(calendarFeeds)
    .where(and(eq(calendarFeeds.userId, userId), isNull(calendarFeeds.revokedAt)));
  return row ? { active: true, ...row } : { active: false, createdAt: null, lastFetchedAt: null };
}

/**
 * The owner of a live feed token: null for an unknown or revoked token, and for an account that is disabled or
 * erased (their feed stops with their access). Notes the fetch time.
 */
async function feedOwner(db: Executor, token: string, now: Date): Promise<{ userId: string } | null> {
  if (token.length < 20 || token.length > 100) return null;
  const [row] = await db
    .update(calendarFeeds)
    .set({ lastFetchedAt: now })
    .from(users)
    .where(and(eq(calendarFeeds.tokenHash, hashToken(token)), isNull(calendarFeeds.revokedAt), eq(users.id, calendarFeeds.userId), isNull(users.disabledAt), isNull(users.erasedAt)))
    .returning({ userId: calendarFeeds.userId });
  return row ?? null;
}

/**
 * The user's calendar (RFC 5545): their sessions, learner and staff, from ~30 days back to ~a year ahead, each at
 * its own zone (TZID, with a VTIMEZONE block), a stable UID per session and SEQUENCE from its version, cancelled
 * ones as STATUS:CANCELLED; and their assessments' due dates as events at the due time.
 */
async function calendarFor(db: Executor, userId: string, now: Date, options: { appUrl: string; domain: string }): Promise<string> {
  const from = DateTime.fromJSDate(now, { zone: "UTC" }).minus({ days: FEED_DAYS_BACK }).startOf("day");
  const range = { from: from.toJSDate(), to: from.plus({ days: FEED_DAYS_BACK + FEED_DAYS_AHEAD }).toJSDate() };
  const schedule = await scheduleOf(db, userId, range, FEED_LIMIT);
  // The iCalendar writer and its time zone blocks load with the first feed served, not with the app.
  const [{ default: ical, ICalEventStatus }, { tzlib_get_ical_block }] = await Promise.all([import("ical-generator"), import("timezones-ical-library")]);
  const calendar = ical({ name: "Ringlet", prodId: { company: "Ringlet", product: "schedule", language: "EN" }, ttl: 3600 });
  calendar.timezone({ name: null, generator: (zone) => tzlib_get_ical_block(zone)[0] ?? null });
  for (const s of schedule.sessions) {
    calendar.createEvent({
      id: `session-${s.sessionId}@${options.domain}`,
      sequence: s.version - 1,
      stamp: s.updatedAt,
      start: DateTime.fromJSDate(s.startsAt).setZone(s.timeZone),
      end: DateTime.fromJSDate(s.endsAt).setZone(s.timeZone),
      timezone: s.timeZone,
      summary: `${s.title} (${s.courseTitle})`,
      location: s.location,
      description: [s.onlineUrl, s.cancelReason ? `Cancelled: ${s.cancelReason}` : null].filter(Boolean).join("\n") || null,
      url: s.onlineUrl,
      status: s.status === "cancelled" ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
    });
  }
  for (const d of schedule.dueDates) {
    calendar.createEvent({
      id: `due-${d.assessmentId}@${options.domain}`,
      stamp: now,
      start: d.dueAt,
      end: d.dueAt,
      summary: `Due: ${d.title} (${d.courseTitle})`,
      url: `${options.appUrl.replace(/\/+$/, "")}/assessments/${d.assessmentId}`,
    });
  }
  return calendar.toString();
}

/** The calendar of a live feed token's owner; null for an unknown or revoked token or a disabled or erased account. */
export async function feedCalendar(db: Executor, token: string, now: Date, options: { appUrl: string; domain: string }): Promise<string | null> {
  const owner = await feedOwner(db, token, now);
  return owner ? calendarFor(db, owner.userId, now, options) : null;
}
