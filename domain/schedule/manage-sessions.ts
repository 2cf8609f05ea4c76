import { and, eq, gte } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { classSessions, courses, courseStaff, sections, sessionSeries } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { checkZoneAndTime, localInstant, MAX_RULE_DAYS, type RecurrenceLimits, weeklyOccurrences } from "./recurrence.js";
import type { ScheduleErrorCode } from "./schedule.errors.js";
import { findSession, type SeriesView, sessionColumns, type SessionView, staffCovers, type StaffViewer } from "./session-view.js";

/** What a session shows, besides its time. */
export interface SessionDetails {
  title: string;
  location: string | null;
  onlineUrl: string | null;
  staffUserId: string | null;
}

export interface OneOffInput extends SessionDetails {
  sectionId: string | null;
  timeZone: string;
  /** local date and "HH:MM" in `timeZone` */
  date: string;
  startTime: string;
  durationMinutes: number;
}

export interface SeriesInput extends SessionDetails {
  sectionId: string | null;
  timeZone: string;
  weekdays: number[];
  startTime: string;
  durationMinutes: number;
  startsOn: string;
  until: string;
  exceptions: string[];
}

/** The limits a rule is checked against: the setting's occurrence cap and about two years. */
export const limitsOf = (maxOccurrences: number): RecurrenceLimits => ({ maxOccurrences, maxDays: MAX_RULE_DAYS });

/**
 * The checks every write shares: the course exists (its row is key-share locked so it cannot go away meanwhile),
 * the section is the course's, the writer's section scope covers it, and the named staff member is on the course's staff.
 */
async function checkPlacement(db: Executor, courseId: string, sectionId: string | null, staffUserId: string | null | undefined, writer: StaffViewer): Promise<Result<null, ScheduleErrorCode>> {
  const [course] = await db.select({ id: courses.id }).from(courses).where(eq(courses.id, courseId)).for("key share");
  if (!course) return fail("COURSE_NOT_FOUND");
  if (sectionId !== null) {
    const [section] = await db.select({ id: sections.id }).from(sections).where(and(eq(sections.id, sectionId), eq(sections.courseId, courseId)));
    if (!section) return fail("SECTION_NOT_FOUND", "The course has no such section.");
  }
  if (!(await staffCovers(db, courseId, sectionId, writer, "write"))) {
    return fail("SECTION_OUT_OF_SCOPE", sectionId === null ? "You are scoped to sections: schedule sessions for one of them." : "You are scoped to other sections of this course.");
  }
  return checkStaffMember(db, courseId, staffUserId);
}

/** A session's named staff member (none is fine) must be on the course's staff. */
export async function checkStaffMember(db: Executor, courseId: string, staffUserId: string | null | undefined): Promise<Result<null, ScheduleErrorCode>> {
  if (!staffUserId) return ok(null);
  const [staff] = await db.select({ userId: courseStaff.userId }).from(courseStaff).where(and(eq(courseStaff.courseId, courseId), eq(courseStaff.userId, staffUserId)));
  return staff ? ok(null) : fail("SCHEDULE_STAFF_NOT_IN_COURSE", "The session's staff member must be on the course's staff.");
}

/** Schedules one session that belongs to no series. */
export async function createSession(ctx: DomainContext, courseId: string, input: OneOffInput, writer: StaffViewer): Promise<Result<SessionView, ScheduleErrorCode>> {
  const checked = checkZoneAndTime(input.timeZone, input.startTime);
  if (!checked.ok) return checked;
  const placed = await checkPlacement(ctx.db, courseId, input.sectionId, input.staffUserId, writer);
  if (!placed.ok) return placed;
  const startsAt = localInstant(input.date, input.startTime, input.timeZone);
  const now = ctx.now();
  const id = ctx.newId();
  const [created] = await ctx.db
    .insert(classSessions)
    .values({
      id,
      courseId,
      sectionId: input.sectionId,
      title: input.title,
      startsAt,
      endsAt: new Date(startsAt.getTime() + input.durationMinutes * 60_000),
      timeZone: input.timeZone,
      location: input.location,
      onlineUrl: input.onlineUrl,
      staffUserId: input.staffUserId,
      createdAt: now,
      updatedAt: now,
    })
    .returning(sessionColumns);
  return ok(created as SessionView);
}

/** Stores a weekly rule and materialises its occurrences in one insert. */
export async function createSeries(ctx: DomainContext, courseId: string, input: SeriesInput, writer: StaffViewer, limits: RecurrenceLimits): Promise<Result<{ series: SeriesView; occurrences: number }, ScheduleErrorCode>> {
  const occurrences = weeklyOccurrences(input, limits);
  if (!occurrences.ok) return occurrences;
  if (occurrences.value.length === 0) return fail("RECURRENCE_INVALID", "The rule has no occurrence between startsOn and until.");
  const placed = await checkPlacement(ctx.db, courseId, input.sectionId, input.staffUserId, writer);
  if (!placed.ok) return placed;
  const now = ctx.now();
  const id = ctx.newId();
  const weekdays = [...new Set(input.weekdays)].sort();
  const exceptions = [...new Set(input.exceptions)].sort();
  const [series] = await ctx.db
    .insert(sessionSeries)
    .values({ id, courseId, ...input, weekdays, exceptions, createdByUserId: writer.userId, createdAt: now, updatedAt: now })
    .returning();
  const { createdByUserId: _, ...view } = series as typeof sessionSeries.$inferSelect;
  await ctx.db.insert(classSessions).values(
    occurrences.value.map((o) => ({
      id: ctx.newId(),
      courseId,
      sectionId: input.sectionId,
      seriesId: id,
      occurrenceDate: o.date,
      title: input.title,
      startsAt: o.startsAt,
      endsAt: o.endsAt,
      timeZone: input.timeZone,
      location: input.location,
      onlineUrl: input.onlineUrl,
      staffUserId: input.staffUserId,
      createdAt: now,
      updatedAt: now,
    })),
  );
  return ok({ series: view, occurrences: occurrences.value.length });
}

/** Locks a session (and first its series, so occurrence-wide changes of the series and this one take turns). */
export async function lockSession(db: Executor, sessionId: string): Promise<SessionView | null> {
  const [head] = await db.select({ seriesId: classSessions.seriesId }).from(classSessions).where(eq(classSessions.id, sessionId));
  if (!head) return null;
  if (head.seriesId) await db.select({ id: sessionSeries.id }).from(sessionSeries).where(eq(sessionSeries.id, head.seriesId)).for("update");
  return findSession(db, sessionId, { lock: "update" });
}

/** Every occurrence of a series from a local date on, locked (the series row is locked already). */
export async function followingOccurrences(db: Executor, seriesId: string, fromDate: string) {
  return db
    .select({ id: classSessions.id, date: classSessions.occurrenceDate, detached: classSessions.detached, status: classSessions.status, startsAt: classSessions.startsAt, endsAt: classSessions.endsAt })
    .from(classSessions)
    .where(and(eq(classSessions.seriesId, seriesId), gte(classSessions.occurrenceDate, fromDate)))
    .orderBy(classSessions.occurrenceDate)
    .for("update");
}
