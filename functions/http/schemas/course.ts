import { z } from "zod";
import { courseRoles, courseStatuses, waitlistModes } from "../../../domain/db/schema/index.js";
import type { CourseView } from "../../../domain/catalog/course-view.js";
import type { StaffMember } from "../../../domain/catalog/staff.js";
import { isoOrNull } from "./dates.js";

const iso = z.iso.datetime();

export const courseSchema = z
  .object({
    id: z.uuid(),
    code: z.string().nullable().meta({ description: "A short code (CS-101) imports name the course by; unique, case-insensitively" }),
    title: z.string(),
    description: z.string(),
    language: z.string(),
    tags: z.array(z.string()),
    status: z.enum(courseStatuses),
    capacity: z.number().int().nullable().meta({ description: "null: unlimited" }),
    seatsTaken: z.number().int(),
    seatsAvailable: z.number().int().nullable(),
    waitlistEnabled: z.boolean(),
    waitlistMode: z.enum(waitlistModes).meta({ description: "auto: the first in line is enrolled when a seat frees; offer: they are offered it" }),
    offerTtlHours: z.number().int(),
    selfEnrollment: z.boolean(),
    enrollmentOpensAt: iso.nullable(),
    enrollmentClosesAt: iso.nullable(),
    sequentialProgress: z.boolean(),
    prerequisiteCourseIds: z.array(z.uuid()),
    paymentRequired: z.boolean().meta({ description: "A course-wide fee must be paid (or its first instalment) before an enrollment becomes active; the seat is held meanwhile. The fees: GET /v1/courses/{courseId}/fees" }),
    passPercent: z.number(),
    publishedAt: iso.nullable(),
    archivedAt: iso.nullable(),
    version: z.number().int(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: "Course" });


export const courseBody = (c: CourseView): z.infer<typeof courseSchema> => ({
  ...c,
  enrollmentOpensAt: isoOrNull(c.enrollmentOpensAt),
  enrollmentClosesAt: isoOrNull(c.enrollmentClosesAt),
  publishedAt: isoOrNull(c.publishedAt),
  archivedAt: isoOrNull(c.archivedAt),
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

/** Course ETags carry the version (what If-Match compares) and the seat count (so 304 never hides a seat change). */
// The fee flag is not part of the course's version (fees change on their own): it is in the tag, so 304 never hides it.
export const courseEtag = (c: CourseView) => `"v${c.version}.s${c.seatsTaken}${c.paymentRequired ? ".p" : ""}"`;
/** The version an If-Match names, when it names one of ours; `*` means any. */
export function versionFromIfMatch(header: string | null): number | "any" | "unknown" | undefined {
  if (header === null) return undefined;
  if (header.trim() === "*") return "any";
  const m = /^"v(\d+)\.s\d+(?:\.p)?"$/.exec(header.trim());
  return m ? Number(m[1]) : "unknown";
}

const tag = z.string().trim().min(1).max(40).regex(/^[\p{L}\p{N} _.+#-]+$/u, "letters, digits, spaces and _ . + # - only");

/** Fields a course can be created with; every one has a sensible default except the title. */
export const courseSettingsShape = {
  code: z.string().trim().regex(/^[A-Za-z0-9._-]{1,32}$/, "1 to 32 letters, digits and . _ - only").nullable(),
  title: z.string().trim().min(1).max(200),
  description: z.string().max(20_000),
  language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "a BCP 47 language tag such as en or pt-BR"),
  tags: z.array(tag).max(20),
  capacity: z.number().int().min(0).max(1_000_000).nullable(),
  waitlistEnabled: z.boolean(),
  waitlistMode: z.enum(waitlistModes),
  offerTtlHours: z.number().int().min(1).max(24 * 30),
  selfEnrollment: z.boolean(),
  enrollmentOpensAt: iso.nullable(),
  enrollmentClosesAt: iso.nullable(),
  sequentialProgress: z.boolean(),
  prerequisiteCourseIds: z.array(z.uuid()).max(20),
  passPercent: z.number().min(0).max(100),
};

export const staffSchema = z
  .object({ userId: z.uuid(), displayName: z.string(), email: z.string(), role: z.enum(courseRoles), addedAt: iso })
  .meta({ id: "StaffMember" });
export const staffBody = (s: StaffMember) => ({ ...s, addedAt: s.addedAt.toISOString() });
