import { z } from "zod";
import { enrollmentSources, enrollmentStatuses } from "../../../domain/db/schema/index.js";
import type { EnrollmentView } from "../../../domain/enrollment/enrollment-view.js";
import { isoOrNull } from "./dates.js";

const iso = z.iso.datetime();

export const enrollmentSchema = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    userId: z.uuid(),
    status: z.enum(enrollmentStatuses),
    source: z.enum(enrollmentSources),
    position: z.number().int().positive().nullable().meta({ description: "Place in the waitlist (1 = next), while waitlisted" }),
    sectionId: z.uuid().nullable().meta({ description: "The course section the learner is in (PUT .../enrollments/{enrollmentId}/section)" }),
    enrolledAt: iso.nullable(),
    waitlistedAt: iso.nullable(),
    offerExpiresAt: iso.nullable(),
    paymentDueAt: iso.nullable().meta({ description: "While pending-payment: when the held seat is released if the course's fee is still unpaid" }),
    endedAt: iso.nullable(),
    completedAt: iso.nullable(),
    createdAt: iso,
  })
  .meta({ id: "Enrollment" });


export const enrollmentBody = (e: EnrollmentView) => ({
  id: e.id,
  courseId: e.courseId,
  userId: e.userId,
  status: e.status,
  source: e.source,
  position: e.position,
  sectionId: e.sectionId,
  enrolledAt: isoOrNull(e.enrolledAt),
  waitlistedAt: isoOrNull(e.waitlistedAt),
  offerExpiresAt: isoOrNull(e.offerExpiresAt),
  paymentDueAt: isoOrNull(e.paymentDueAt),
  endedAt: isoOrNull(e.endedAt),
  completedAt: isoOrNull(e.completedAt),
  createdAt: e.createdAt.toISOString(),
});
