import { z } from "zod";
import type { DueEntry, ScheduleEntry } from "../../../domain/schedule/my-schedule.js";
import type { SeriesView, SessionView } from "../../../domain/schedule/session-view.js";
import { line } from "./text.js";

const iso = z.iso.datetime();

export const localDate = z.iso.date().meta({ description: "A local date, YYYY-MM-DD" });
export const sessionFields = {
  title: line(200),
  sectionId: z.uuid().nullable().default(null).meta({ description: "null: the whole course" }),
  timeZone: z.string().min(1).max(64).meta({ description: "IANA time zone the local times are in, e.g. Europe/Madrid", example: "Europe/Madrid" }),
  startTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM").meta({ description: "Local start time, HH:MM", example: "10:00" }),
  durationMinutes: z.number().int().min(1).max(1440),
  location: line(300).nullable().default(null),
  onlineUrl: z.url({ protocol: /^https?$/ }).max(2000).nullable().default(null),
  staffUserId: z.uuid().nullable().default(null).meta({ description: "A member of the course's staff who leads the session" }),
};

export const oneOffBody = z.object({ ...sessionFields, date: localDate });

export const seriesBody = z.object({
  ...sessionFields,
  weekdays: z.array(z.number().int().min(1).max(7)).min(1).max(7).meta({ description: "ISO weekdays, 1 = Monday … 7 = Sunday" }),
  startsOn: localDate,
  until: localDate.meta({ description: "Required: the last local date (the term end). A rule must end." }),
  exceptions: z.array(localDate).max(400).default([]).meta({ description: "Local dates without a session (holidays)" }),
});

export const sessionChangeBody = z.object({
  title: line(200).optional(),
  location: line(300).nullable().optional(),
  onlineUrl: z.url({ protocol: /^https?$/ }).max(2000).nullable().optional(),
  staffUserId: z.uuid().nullable().optional(),
  date: localDate.optional().meta({ description: "scope=this: move the session to this local date" }),
  startTime: sessionFields.startTime.optional(),
  durationMinutes: sessionFields.durationMinutes.optional(),
  timeZone: sessionFields.timeZone.optional(),
  weekdays: z.array(z.number().int().min(1).max(7)).min(1).max(7).optional().meta({ description: "scope=following: the rule's new weekdays" }),
  until: localDate.optional().meta({ description: "scope=following: the rule's new last date" }),
});

export const scopeQuery = z.object({
  scope: z.enum(["this", "following"]).default("this").meta({ description: "this: only this session; following: this occurrence and the rest of its series" }),
});

export const cancelBody = z.object({
  reason: z.string().trim().min(1).max(500).regex(/^[^\0]*$/, "no NUL characters").nullable().default(null),
  scope: z.enum(["this", "following"]).default("this"),
});

export const sessionSchema = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    sectionId: z.uuid().nullable(),
    seriesId: z.uuid().nullable(),
    occurrenceDate: z.string().nullable().meta({ description: "The series occurrence this is (local date); null for a one-off session" }),
    detached: z.boolean().meta({ description: "Changed on its own: changes of all following occurrences leave it alone" }),
    title: z.string(),
    startsAt: iso,
    endsAt: iso,
    timeZone: z.string(),
    location: z.string().nullable(),
    onlineUrl: z.string().nullable(),
    staffUserId: z.uuid().nullable(),
    status: z.enum(["scheduled", "cancelled"]),
    cancelledAt: iso.nullable(),
    cancelReason: z.string().nullable(),
    version: z.number().int(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: "ClassSession" });

export const sessionBody = (s: SessionView): z.infer<typeof sessionSchema> => ({
  ...s,
  startsAt: s.startsAt.toISOString(),
  endsAt: s.endsAt.toISOString(),
  cancelledAt: s.cancelledAt?.toISOString() ?? null,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

export const seriesSchema = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    sectionId: z.uuid().nullable(),
    title: z.string(),
    timeZone: z.string(),
    weekdays: z.array(z.number().int()),
    startTime: z.string(),
    durationMinutes: z.number().int(),
    startsOn: z.string(),
    until: z.string(),
    exceptions: z.array(z.string()),
    location: z.string().nullable(),
    onlineUrl: z.string().nullable(),
    staffUserId: z.uuid().nullable(),
    version: z.number().int(),
    occurrences: z.number().int().meta({ description: "How many sessions the rule made" }),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: "SessionSeries" });

export const seriesBodyOut = (s: SeriesView, occurrences: number): z.infer<typeof seriesSchema> => ({
  ...s,
  occurrences,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

const role = z.enum(["learner", "staff"]);
export const scheduleSchema = z
  .object({
    from: iso,
    to: iso,
    sessions: z.array(
      z.object({
        sessionId: z.uuid(),
        courseId: z.uuid(),
        courseTitle: z.string(),
        sectionId: z.uuid().nullable(),
        seriesId: z.uuid().nullable(),
        title: z.string(),
        startsAt: iso,
        endsAt: iso,
        timeZone: z.string(),
        location: z.string().nullable(),
        onlineUrl: z.string().nullable(),
        status: z.enum(["scheduled", "cancelled"]),
        cancelReason: z.string().nullable(),
        role,
        version: z.number().int(),
      }),
    ),
    dueDates: z.array(z.object({ assessmentId: z.uuid(), courseId: z.uuid(), courseTitle: z.string(), title: z.string(), dueAt: iso, role })),
    truncated: z.boolean().meta({ description: "More fell in the range than one answer carries: ask for a shorter range" }),
  })
  .meta({ id: "MySchedule" });

export const scheduleEntryBody = ({ updatedAt: _, ...s }: ScheduleEntry) => ({ ...s, startsAt: s.startsAt.toISOString(), endsAt: s.endsAt.toISOString() });
export const dueEntryBody = (d: DueEntry) => ({ ...d, dueAt: d.dueAt.toISOString() });

export const rangeQuery = {
  from: z.iso.datetime({ offset: true }).meta({ description: "Range start (inclusive), an ISO date-time" }),
  to: z.iso.datetime({ offset: true }).meta({ description: "Range end (exclusive); at most 366 days after from" }),
};
