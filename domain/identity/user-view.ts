import { eq } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type CourseRole, courseStaff, users } from "../db/schema/index.js";

export const globalRoles = ["admin", "finance", "course-creator"] as const;
/**
 * `admin`: everything; `finance`: the bursar (fees, invoices, payments, refunds, the ledger); `course-creator`: may
 * create courses, and so become their instructor, before teaching any (an instructor of some course already may).
 */
export type GlobalRole = (typeof globalRoles)[number];

export interface RoleFlags {
  isAdmin: boolean;
  isFinance: boolean;
  isCourseCreator: boolean;
}

/** The global roles a user row holds. */
export const rolesOf = (row: RoleFlags): GlobalRole[] => [
  ...(row.isAdmin ? (["admin"] as const) : []),
  ...(row.isFinance ? (["finance"] as const) : []),
  ...(row.isCourseCreator ? (["course-creator"] as const) : []),
];

/** The flags a set of global roles stands for. */
export const roleFlags = (roles: readonly GlobalRole[]): RoleFlags => ({ isAdmin: roles.includes("admin"), isFinance: roles.includes("finance"), isCourseCreator: roles.includes("course-creator") });

/** A user as the API shows it: never the password hash. */
export interface UserView {
  id: string;
  email: string;
  displayName: string;
  locale: string;
  roles: GlobalRole[];
  courseRoles: { courseId: string; role: CourseRole }[];
  disabled: boolean;
  /** When an admin deactivated the account; null while it is active. */
  deactivatedAt: Date | null;
  /** The user proved they own the address (an emailed link, or an issuer that vouches for it). */
  emailVerified: boolean;
  createdAt: Date;
  updatedAt: Date;
}

type UserRow = typeof users.$inferSelect;

export function toUserView(row: UserRow, courseRoles: UserView["courseRoles"] = []): UserView {
  return {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    locale: row.locale,
    roles: rolesOf(row),
    courseRoles,
    disabled: row.disabledAt !== null,
    deactivatedAt: row.disabledAt,
    emailVerified: row.emailVerifiedAt !== null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function findUserView(db: Executor, userId: string): Promise<UserView | null> {
  const [row] = await db.select().from(users).where(eq(users.id, userId));
  if (!row) return null;
  const staff = await db.select({ courseId: courseStaff.courseId, role: courseStaff.role }).from(courseStaff).where(eq(courseStaff.userId, userId));
  return toUserView(row, staff);
}
