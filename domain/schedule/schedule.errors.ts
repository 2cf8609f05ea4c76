import type { RecurrenceErrorCode } from "./recurrence.js";

export type ScheduleErrorCode =
  | RecurrenceErrorCode
  | "COURSE_NOT_FOUND"
  | "SECTION_NOT_FOUND"
  | "SECTION_OUT_OF_SCOPE"
  | "CLASS_SESSION_NOT_FOUND"
  | "CLASS_SESSION_CANCELLED"
  | "CLASS_SESSION_HAS_ATTENDANCE"
  | "SCHEDULE_STAFF_NOT_IN_COURSE"
  | "SCHEDULE_RANGE_INVALID"
  | "PRECONDITION_FAILED"
  | "INVALID_CURSOR";
