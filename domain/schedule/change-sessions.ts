import { eq, sql } from "drizzle-orm";
import { classSessions, sessionSeries } from "../db/schema/index.js";
import { recordEvents } from "../outbox/record-events.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { checkStaffMember, followingOccurrences, limitsOf, lockSession, type SessionDetails } from "./manage-sessions.js";
import { checkZoneAndTime, dayBefore, localInstant, localParts, weeklyOccurrences } from "./recurrence.js";
import type { ScheduleErrorCode } from "./schedule.errors.js";
import { findSession, marksAt, sessionColumns, type SessionView, staffCovers, type StaffViewer } from "./session-view.js";

/**
 * A change of a session. `this` changes one session: a series occurrence becomes `detached` (later changes of
 * the series leave it alone). `following` changes this occurrence and the rest of its series (see changeFollowing).
 */
export interface SessionChange extends Partial<SessionDetails> {
  /** `this`: the session's own local date; not with `following` */
  date?: string;
  startTime?: string;
  durationMinutes?: number;
  timeZone?: string;
  /** `following` only: the rule's new weekdays and end */
  weekdays?: number[];
  until?: string;
}

export interface ChangeOptions {
  scope: "this" | "following";
  expectedVersion?: number;
  maxOccurrences: number;
}

/** Locks the session and checks what every write needs: it exists, is the writer's, and is the version they read. */
export async function lockForWrite(ctx: DomainContext, sessionId: string, writer: StaffViewer, expectedVersion: number | undefined): Promise<Result<SessionView, ScheduleErrorCode>> {
  const session = await lockSession(ctx.db, sessionId);
  if (!session) return fail("CLASS_SESSION_NOT_FOUND");
  if (!(await staffCovers(ctx.db, session.courseId, session.sectionId, writer, "write"))) return fail("SECTION_OUT_OF_SCOPE", "You are scoped to other sections of this course.");
  if (expectedVersion !== undefined && session.version !== expectedVersion) return fail("PRECONDITION_FAILED");
  return ok(session);
}

/** lockForWrite, and the session must not be cancelled (a cancelled session is not changed or cancelled again). */
export async function lockForChange(ctx: DomainContext, sessionId: string, writer: StaffViewer, expectedVersion: number | undefined): Promise<Result<SessionView, ScheduleErrorCode>> {
  const locked = await lockForWrite(ctx, sessionId, writer, expectedVersion);
  if (locked.ok && locked.value.status === "cancelled") return fail("CLASS_SESSION_CANCELLED", "The session is cancelled; schedule a new one instead.");
  return locked;
}

export async function changeSession(ctx: DomainContext, sessionId: string, change: SessionChange, writer: StaffViewer, options: ChangeOptions): Promise<Result<SessionView, ScheduleErrorCode>> {
  const locked = await lockForChange(ctx, sessionId, writer, options.expectedVersion);
  if (!locked.ok) return locked;
  const session = locked.value;
  const staffed = await checkStaffMember(ctx.db, session.courseId, change.staffUserId);
  if (!staffed.ok) return staffed;
  if (options.scope === "following" && session.seriesId && session.occurrenceDate) {
    if (change.date !== undefined) return fail("RECURRENCE_INVALID", "A change of all following occurrences moves the rule (weekdays, startTime), not one date.");
    const changed = await changeFollowing(ctx, session as SessionView & { seriesId: string; occurrenceDate: string }, change, options.maxOccurrences);
    if (!changed.ok) return changed;
    return ok((await findSession(ctx.db, changed.value)) as SessionView);
  } else {
    if (change.weekdays !== undefined || change.until !== undefined) return fail("RECURRENCE_INVALID", "weekdays and until change a series: send scope=following.");
    const here = localParts(session.startsAt, session.timeZone);
    const zone = change.timeZone ?? session.timeZone;
    const timing = { timeZone: zone, startTime: change.startTime ?? here.time };
    const checked = checkZoneAndTime(timing.timeZone, timing.startTime);
    if (!checked.ok) return checked;
    const startsAt = localInstant(change.date ?? here.date, timing.startTime, zone);
    const minutes = change.durationMinutes ?? Math.round((session.endsAt.getTime() - session.startsAt.getTime()) / 60_000);
    const endsAt = new Date(startsAt.getTime() + minutes * 60_000);
    if (startsAt.getTime() !== session.startsAt.getTime() || endsAt.getTime() !== session.endsAt.getTime()) {
      const marks = await marksAt(ctx.db, [session.id]);
      if (marks.taken.size > 0) return fail("CLASS_SESSION_HAS_ATTENDANCE", TAKEN);
      await recordExcusedMoved(ctx, session.courseId, marks.excused);
    }
    const [updated] = await ctx.db
      .update(classSessions)
      .set({
        ...details(change),
        startsAt,
        endsAt,
        timeZone: zone,
        detached: session.seriesId !== null,
        version: session.version + 1,
        updatedAt: ctx.now(),
      })
      .where(eq(classSessions.id, sessionId))
      .returning(sessionColumns);
    return ok(updated as SessionView); // the locked row: there is one
  }
}

const TAKEN = "Attendance was taken at this session: its time cannot change and it cannot be cancelled (its title, place and link can change).";

/**
 * Sessions where approved leave excused learners were moved or cancelled: attendance.recorded for those learners, so
 * their progress (a completion minimum rate) is recomputed. Only leave's marks get here: a session where attendance
 * was taken is never moved or cancelled.
 */
export async function recordExcusedMoved(ctx: DomainContext, courseId: string, excused: ReadonlyMap<string, string[]>): Promise<void> {
  await recordEvents(
    ctx,
    [...excused].map(([sessionId, userIds]) => ({ type: "attendance.recorded", aggregateType: "class-session", aggregateId: sessionId, courseId, data: { sessionId, courseId, userIds } })),
  );
}

const details = (c: Partial<SessionDetails>): Partial<SessionDetails> =>
  Object.fromEntries(Object.entries({ title: c.title, location: c.location, onlineUrl: c.onlineUrl, staffUserId: c.staffUserId }).filter(([, v]) => v !== undefined));

/**
 * Changes an occurrence and all that follow it in its series. From the series' first date this edits the rule in
 * place; from a later date it splits the series: the old rule ends the day before, a new series row (the old rule
 * with the change) starts on this date. Then the occurrences from this date on are reconciled with the new rule:
 * - detached and cancelled occurrences, and later ones that have started already (they took place), are left as they
 *   are (they move to the new series; their dates are not re-made), except this occurrence itself, which follows the
 *   new rule (and is no longer detached);
 * - an occurrence whose date the new rule keeps is updated in place (same id, new times, version + 1);
 * - an occurrence the new rule drops is deleted, unless approved leave excused learners there: then it is cancelled
 *   and kept (and those learners' progress recomputed);
 * - a date of the new rule without an occurrence gets a new one.
 * A change that would move or drop an occurrence where attendance was taken is refused (CLASS_SESSION_HAS_ATTENDANCE),
 * as is one that leaves no occurrence from this date on; both before anything is written. The answer is this session,
 * or (when the new rule drops its date) the series' next occurrence.
 */
async function changeFollowing(ctx: DomainContext, session: SessionView & { seriesId: string; occurrenceDate: string }, change: SessionChange, maxOccurrences: number): Promise<Result<string, ScheduleErrorCode>> {
  const [old] = await ctx.db.select().from(sessionSeries).where(eq(sessionSeries.id, session.seriesId));
  if (!old) return fail("CLASS_SESSION_NOT_FOUND");
  const from = session.occurrenceDate;
  const split = from > old.startsOn;
  const rule = {
    weekdays: change.weekdays ? [...new Set(change.weekdays)].sort() : old.weekdays,
    startTime: change.startTime ?? old.startTime,
    durationMinutes: change.durationMinutes ?? old.durationMinutes,
    timeZone: change.timeZone ?? old.timeZone,
    startsOn: split ? from : old.startsOn,
    until: change.until ?? old.until,
    exceptions: old.exceptions.filter((d) => d >= from),
  };
  const occurrences = weeklyOccurrences(rule, limitsOf(maxOccurrences));
  if (!occurrences.ok) return occurrences;
  if (occurrences.value.length === 0) return fail("RECURRENCE_INVALID", "The changed rule has no occurrence from this date on.");
  const now = ctx.now();
  const fields = { title: change.title ?? old.title, location: change.location !== undefined ? change.location : old.location, onlineUrl: change.onlineUrl !== undefined ? change.onlineUrl : old.onlineUrl, staffUserId: change.staffUserId !== undefined ? change.staffUserId : old.staffUserId };

  const existing = await followingOccurrences(ctx.db, old.id, from);
  const byDate = new Map(occurrences.value.map((o) => [o.date, o]));
  // The occurrence the change was made from follows the new rule even when it was detached before or has started;
  // later ones that have started took place and are left alone.
  const ownRule = (r: (typeof existing)[number]) => r.id === session.id ? r.status !== "cancelled" : r.status !== "cancelled" && !r.detached && r.startsAt > now;
  const kept = existing.filter((r) => !ownRule(r));
  const retimed = existing.filter((r) => ownRule(r) && byDate.has(r.date as string));
  const dropped = existing.filter((r) => ownRule(r) && !byDate.has(r.date as string));
  const moved = retimed.filter((r) => byDate.get(r.date as string)?.startsAt.getTime() !== r.startsAt.getTime() || byDate.get(r.date as string)?.endsAt.getTime() !== r.endsAt.getTime());
  const marks = await marksAt(ctx.db, [...moved, ...dropped].map((r) => r.id));
  if (marks.taken.size > 0) return fail("CLASS_SESSION_HAS_ATTENDANCE", `${TAKEN} Change this series from a later date.`);
  await recordExcusedMoved(ctx, old.courseId, marks.excused);

  let target = old.id;
  if (split) {
    target = ctx.newId();
    await ctx.db.update(sessionSeries).set({ until: dayBefore(from), version: old.version + 1, updatedAt: now }).where(eq(sessionSeries.id, old.id));
    await ctx.db.insert(sessionSeries).values({ ...old, ...rule, ...fields, id: target, version: 1, createdByUserId: ctx.actor.userId, createdAt: now, updatedAt: now });
  } else {
    await ctx.db.update(sessionSeries).set({ ...rule, ...fields, version: old.version + 1, updatedAt: now }).where(eq(sessionSeries.id, old.id));
  }

  const taken = new Set(existing.map((r) => r.date));
  const ids = (rows: { id: string }[]) => sql.param(rows.map((r) => r.id));

  if (kept.length) await ctx.db.execute(sql`update ${classSessions} set series_id = ${target} where id = any(${ids(kept)}::uuid[])`);
  if (retimed.length) {
    const starts = retimed.map((r) => byDate.get(r.date as string)?.startsAt.toISOString());
    const ends = retimed.map((r) => byDate.get(r.date as string)?.endsAt.toISOString());
    await ctx.db.execute(sql`
      update ${classSessions} c set series_id = ${target}, detached = false, starts_at = v.starts_at::timestamptz, ends_at = v.ends_at::timestamptz, time_zone = ${rule.timeZone},
        title = ${fields.title}, location = ${fields.location}, online_url = ${fields.onlineUrl}, staff_user_id = ${fields.staffUserId},
        version = c.version + 1, updated_at = ${now.toISOString()}::timestamptz
      from unnest(${ids(retimed)}::uuid[], ${sql.param(starts)}::text[], ${sql.param(ends)}::text[]) as v(id, starts_at, ends_at)
      where c.id = v.id`);
  }
  const cancel = dropped.filter((r) => marks.excused.has(r.id));
  const remove = dropped.filter((r) => !marks.excused.has(r.id));
  if (cancel.length) {
    await ctx.db.execute(sql`
      update ${classSessions} set series_id = ${target}, status = 'cancelled', cancelled_at = ${now.toISOString()}::timestamptz,
        cancel_reason = 'Removed from the schedule', version = version + 1, updated_at = ${now.toISOString()}::timestamptz
      where id = any(${ids(cancel)}::uuid[])`);
  }
  if (remove.length) await ctx.db.execute(sql`delete from ${classSessions} where id = any(${ids(remove)}::uuid[])`);
  const added = occurrences.value.filter((o) => !taken.has(o.date));
  if (added.length) {
    await ctx.db.insert(classSessions).values(
      added.map((o) => ({
        id: ctx.newId(),
        courseId: old.courseId,
        sectionId: old.sectionId,
        seriesId: target,
        occurrenceDate: o.date,
        ...fields,
        startsAt: o.startsAt,
        endsAt: o.endsAt,
        timeZone: rule.timeZone,
        createdAt: now,
        updatedAt: now,
      })),
    );
  }
  const [shown] = await ctx.db.execute<{ id: string }>(sql`
    select id from ${classSessions} where series_id = ${target} and occurrence_date >= ${from}::date
    order by (id = ${session.id}) desc, occurrence_date limit 1`);
  return ok(shown?.id ?? session.id);
}
