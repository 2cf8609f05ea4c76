import { sql } from "drizzle-orm";
import { z } from "zod";
import { courses, sections } from "../../db/schema/index.js";
import type { DomainContext } from "../../shared/context.js";
import type { ImportRun } from "../import-kind.js";

// What the `enrollments` and `sections` kinds share: how a row names its course and section.

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const courseRefSchema = z
  .string()
  .min(1, { error: "course is required" })
  .max(64, { error: "course is longer than 64 characters" })
  .refine((s) => !CONTROL.test(s), { error: "course holds a control character" });

export const sectionNameSchema = z
  .string()
  .max(100, { error: "section is longer than 100 characters" })
  .refine((s) => !CONTROL.test(s), { error: "section holds a control character" });

export interface ImportCourse {
  id: string;
  /** How reasons name the course: its code, else its id. */
  label: string;
  status: "draft" | "published" | "archived";
  capacity: number | null;
  seatsTaken: number;
}

/** A row's course reference as a map key: codes compare case-insensitively. */
export const courseKey = (ref: string) => ref.toLowerCase();

/**
 * Resolves the batch's course references in one query: by code (case-insensitively) first, then by id. With
 * `lock` the courses found are locked in id order (the course row lock every seat change takes), as `no key
 * update`: that still queues behind every other seat change, but not behind the key-share locks the progress and
 * other subscriptions take by inserting rows that refer to the course (a plain `for update` waited on each of them).
 */
export async function resolveCourses(ctx: DomainContext, refs: readonly string[], lock: boolean): Promise<Map<string, ImportCourse>> {
  const keys = [...new Set(refs.map(courseKey))];
  const ids = keys.filter((k) => UUID.test(k));
  const rows = await ctx.db.execute<{ id: string; code: string | null; status: ImportCourse["status"]; capacity: number | null; seats_taken: number }>(sql`
    select id, code, status, capacity, seats_taken from ${courses}
    where lower(code) = any(${sql.param(keys)}::text[]) or id = any(${sql.param(ids)}::uuid[])
    order by id ${lock ? sql`for no key update` : sql``}`);
  const byCode = new Map(rows.filter((r) => r.code !== null).map((r) => [(r.code as string).toLowerCase(), r]));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out = new Map<string, ImportCourse>();
  for (const key of keys) {
    const r = byCode.get(key) ?? byId.get(key);
    if (r) out.set(key, { id: r.id, label: r.code ?? r.id, status: r.status, capacity: r.capacity, seatsTaken: r.seats_taken });
  }
  return out;
}

/** Why a row may not touch this course, if it may not: another course than a staff import's, or an archived one. */
export async function courseRefusal(ctx: DomainContext, run: ImportRun, course: ImportCourse | undefined, ref: string): Promise<string | null> {
  if (!course) return `course ${ref} not found`;
  if (run.courseId && course.id !== run.courseId) return `only course ${await courseLabel(ctx, run.courseId)} may be imported here`;
  if (course.status === "archived") return `course ${course.label} is archived`;
  return null;
}

const labels = new WeakMap<DomainContext, Map<string, string>>();
async function courseLabel(ctx: DomainContext, courseId: string): Promise<string> {
  const cache = labels.get(ctx) ?? new Map<string, string>();
  labels.set(ctx, cache);
  let label = cache.get(courseId);
  if (!label) {
    const [row] = await ctx.db.execute<{ label: string }>(sql`select coalesce(code, id::text) as label from ${courses} where id = ${courseId}`);
    label = row?.label ?? courseId;
    cache.set(courseId, label);
  }
  return label;
}

export interface ImportSection {
  id: string;
  courseId: string;
  name: string;
  capacity: number | null;
}

/** A section as a map key: its course and its name, case-insensitively (as the unique index compares). */
export const sectionKey = (courseId: string, name: string) => `${courseId}|${name.toLowerCase()}`;

/** The sections of these courses with these names, in one query; with `lock`, locked in id order. */
export async function findSections(ctx: DomainContext, wanted: readonly { courseId: string; name: string }[], lock: boolean): Promise<Map<string, ImportSection>> {
  if (wanted.length === 0) return new Map();
  const rows = await ctx.db.execute<{ id: string; course_id: string; name: string; capacity: number | null }>(sql`
    select s.id, s.course_id, s.name, s.capacity from ${sections} s
    join unnest(${sql.param(wanted.map((w) => w.courseId))}::uuid[], ${sql.param(wanted.map((w) => w.name.toLowerCase()))}::text[]) as v(course_id, name)
      on s.course_id = v.course_id and lower(s.name) = v.name
    order by s.id ${lock ? sql`for update of s` : sql``}`);
  return new Map(rows.map((r) => [sectionKey(r.course_id, r.name), { id: r.id, courseId: r.course_id, name: r.name, capacity: r.capacity }]));
}
