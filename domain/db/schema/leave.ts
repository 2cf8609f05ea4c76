import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { belongsTo, timestamps, tstz } from "./columns.js";
import { courses } from "./courses.js";
import { users } from "./users.js";

export const leaveStatuses = ["pending", "escalated", "approved", "rejected", "withdrawn", "expired"] as const;
export type LeaveStatus = (typeof leaveStatuses)[number];
/** The statuses in which an application still waits for a decision. */
export const openLeaveStatuses = ["pending", "escalated"] as const satisfies readonly LeaveStatus[];
/** Whether an application in this status still waits for a decision. */
export const isOpenLeave = (status: string): boolean => (openLeaveStatuses as readonly string[]).includes(status);
/** The outcomes an application closes with. */
export const closedLeaveStatuses = ["approved", "rejected", "withdrawn", "expired"] as const satisfies readonly LeaveStatus[];
export type ClosedLeaveStatus = (typeof closedLeaveStatuses)[number];
/** Who applies: a learner (approved by their instructors) or a staff member (by the administrators). */
export const leaveApplicantKinds = ["learner", "staff"] as const;
export type LeaveApplicantKind = (typeof leaveApplicantKinds)[number];

/** A leave application over [startsAt, endsAt), decided through the `leave-<id>` orchestration. */
export const leaveApplications = pgTable(
  "leave_applications",
  {
    id: uuid("id").primaryKey(),
    applicantUserId: belongsTo("applicant_user_id", () => users.id),
    // learner leave is decided by the staff of the affected courses; staff leave by an administrator
    applicantKind: text("applicant_kind").$type<LeaveApplicantKind>().notNull(),
    startsAt: tstz("starts_at").notNull(),
    endsAt: tstz("ends_at").notNull(),
    reason: text("reason").notNull(),
    // the optional supporting document (blob name), set once its upload is confirmed
    documentBlob: text("document_blob"),
    documentFileName: text("document_file_name"),
    documentContentType: text("document_content_type"),
    documentSizeBytes: integer("document_size_bytes"),
    status: text("status").$type<LeaveStatus>().notNull().default("pending"),
    escalatedAt: tstz("escalated_at"),
    decidedAt: tstz("decided_at"),
    decidedByUserId: uuid("decided_by_user_id").references(() => users.id, { onDelete: "set null" }),
    decisionComment: text("decision_comment"),
    // the orchestration instance (`leave-<id>`)
    instanceId: text("instance_id").notNull(),
    // when the orchestration's first step ran; null: not started yet (the leave-resume timer starts it)
    orchestratedAt: tstz("orchestrated_at"),
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [
    index("leave_applications_applicant_user_id_idx").on(t.applicantUserId, t.startsAt),
    index("leave_applications_status_idx").on(t.status).where(sql`${t.status} in ('pending', 'escalated')`),
    check("leave_applications_range_check", sql`${t.endsAt} > ${t.startsAt}`),
  ],
);

/** Who may decide an application, fixed when it is made (course staff of the affected sessions); admins always may once escalated. */
export const leaveApprovers = pgTable(
  "leave_approvers",
  {
    applicationId: belongsTo("application_id", () => leaveApplications.id),
    userId: belongsTo("user_id", () => users.id),
    // the course that makes them an approver; null for administrators
    courseId: uuid("course_id").references(() => courses.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.applicationId, t.userId] }), index("leave_approvers_user_id_idx").on(t.userId)],
);

/** The courses an application touches (sessions or due dates in its range), for emails, excusals and extensions. */
export const leaveCourses = pgTable(
  "leave_courses",
  {
    applicationId: belongsTo("application_id", () => leaveApplications.id),
    courseId: belongsTo("course_id", () => courses.id),
  },
  (t) => [primaryKey({ columns: [t.applicationId, t.courseId] })],
);
