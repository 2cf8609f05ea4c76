import { api, type Schemas } from "../../api/client";

export type MyEnrollment = Schemas["Enrollment"] & { courseTitle: string };

/**
 * The signed-in learner's enrollment in one course (or null): the API lists "my enrollments" (newest first), so the
 * first of that course is the current one. A learner has few enrollments; 100 covers all but the rarest.
 */
export async function myEnrollmentIn(courseId: string) {
  const result = await api.GET("/v1/me/enrollments", { params: { query: { limit: 100 } } });
  return { ...result, data: result.data ? (result.data.items.find((e) => e.courseId === courseId) ?? null) : undefined };
}

/** The words for an enrollment's state (never colour alone). */
export function enrollmentLabel(e: Pick<Schemas["Enrollment"], "status" | "position">): string {
  switch (e.status) {
    case "active":
      return "Enrolled";
    case "waitlisted":
      return e.position == null ? "On the waitlist" : `On the waitlist, number ${e.position}`;
    case "offered":
      return "A seat is offered to you";
    case "pending-payment":
      return "Seat held until the fee is paid";
    case "suspended":
      return "Suspended";
    case "dropped":
      return "Dropped out";
    case "removed":
      return "Removed";
    case "offer-expired":
      return "The seat offer expired";
    case "offer-declined":
      return "Seat offer declined";
    case "payment-expired":
      return "The fee was not paid in time";
  }
}
