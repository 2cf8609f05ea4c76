import { sql } from "drizzle-orm";
import { boolean, check, index, integer, pgTable, primaryKey, real, text, uuid } from "drizzle-orm/pg-core";
import { belongsTo, tstz } from "./columns.js";
import { courses } from "./courses.js";
import { classSessions } from "./schedule.js";
import { users } from "./users.js";

/** How a course takes and counts attendance; a course without a row uses the defaults below. */
export const attendancePolicies = pgTable(
  "attendance_policies",
  {
    courseId: belongsTo("course_id", () => courses.id).primaryKey(),
    // learners may check in themselves with the code staff show
    selfCheckIn: boolean("self_check_in").notNull().default(false),
    // staff may change marks freely for this long after the session ends; later changes need a reason and are audited
    editWindowHours: integer("edit_window_hours").notNull().default(72),
    // the low-attendance alert fires below this rate (percent); null: no alerts
    lowThresholdPercent: real("low_threshold_percent"),
    // when set, attendance is a gradebook category of this name (its weight lives in grade_categories)
    gradeCategory: text("grade_category"),
    // when set, completing the course needs at least this attendance rate (percent)
    minRateForCompletion: real("min_rate_for_completion"),
    // approved leave moves the learner's assessment due dates inside the leave by its length (domain/leave/approved-leave.ts)
    leaveExtendsDueDates: boolean("leave_extends_due_dates").notNull().default(false),
    version: integer("version").notNull().default(1),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
    // when the low-attendance run last checked this course: each run takes the least recently checked first, so a
    // run cut short by its time budget is continued by the next, never restarted from the same courses
    alertsCheckedAt: tstz("alerts_checked_at"),
  },
  (t) => [
    index("attendance_policies_alerts_checked_at_idx").on(t.alertsCheckedAt, t.courseId).where(sql`${t.lowThresholdPercent} is not null`),
    check("attendance_policies_threshold_check", sql`${t.lowThresholdPercent} is null or (${t.lowThresholdPercent} > 0 and ${t.lowThresholdPercent} <= 100)`),
    check("attendance_policies_min_rate_check", sql`${t.minRateForCompletion} is null or (${t.minRateForCompletion} > 0 and ${t.minRateForCompletion} <= 100)`),
  ],
);

export const attendanceStatuses = ["present", "late", "absent", "excused"] as const;
export type AttendanceStatus = (typeof attendanceStatuses)[number];
export const attendanceSources = ["staff", "check-in", "leave"] as const;
export type AttendanceSource = (typeof attendanceSources)[number];

/** One learner's attendance at one session. */
export const attendanceMarks = pgTable(
  "attendance_marks",
  {
    sessionId: belongsTo("session_id", () => classSessions.id),
    userId: belongsTo("user_id", () => users.id),
    // denormalised for per-course rates and the matrix
    courseId: belongsTo("course_id", () => courses.id),
    status: text("status").$type<AttendanceStatus>().notNull(),
    note: text("note"),
    source: text("source").$type<AttendanceSource>().notNull(),
    // the approved leave that excused this mark, and the status it had before (restored if that leave is undone)
    leaveApplicationId: uuid("leave_application_id"),
    statusBeforeLeave: text("status_before_leave").$type<AttendanceStatus>(),
    markedByUserId: uuid("marked_by_user_id").references(() => users.id, { onDelete: "set null" }),
    markedAt: tstz("marked_at").notNull().defaultNow(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
    version: integer("version").notNull().default(1),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.userId] }), index("attendance_marks_course_id_user_id_idx").on(t.courseId, t.userId), index("attendance_marks_user_id_idx").on(t.userId)],
);

/** Low-attendance alerts sent: one per (course, learner, period), however often the timer fires. */
export const attendanceAlerts = pgTable(
  "attendance_alerts",
  {
    courseId: belongsTo("course_id", () => courses.id),
    userId: belongsTo("user_id", () => users.id),
    // the alert period, e.g. the ISO week "2026-W49"
    period: text("period").notNull(),
    ratePercent: real("rate_percent").notNull(),
    sentAt: tstz("sent_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.courseId, t.userId, t.period] })],
);
