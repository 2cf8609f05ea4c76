import { pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { courses } from "./courses.js";
import { belongsTo, tstz } from "./columns.js";
import { users } from "./users.js";

/** One certificate per (learner, course); the verification code is public, the PDF lives in Blob Storage. */
export const certificates = pgTable(
  "certificates",
  {
    id: uuid("id").primaryKey(),
    courseId: belongsTo("course_id", () => courses.id),
    userId: belongsTo("user_id", () => users.id),
    code: text("code").notNull(),
    // what the certificate says, fixed at issue: later renames change nothing on it
    learnerName: text("learner_name").notNull(),
    courseTitle: text("course_title").notNull(),
    blobName: text("blob_name").notNull(),
    issuedAt: tstz("issued_at").notNull(),
  },
  (t) => [uniqueIndex("certificates_course_id_user_id_idx").on(t.courseId, t.userId), uniqueIndex("certificates_code_idx").on(t.code)],
);
