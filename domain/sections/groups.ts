import { and, asc, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courses, enrollments, groupMembers, groups, users } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { nameFree } from "./manage-sections.js";
import { viewerScope } from "./staff-scope.js";
import type { SectionErrorCode } from "./sections.errors.js";
import { type CourseViewer, isCourseStaffOrAdmin } from "./viewer.js";

export interface GroupView {
  id: string;
  courseId: string;
  name: string;
  members: { userId: string; displayName: string }[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** With `memberScope`, only the members placed in those sections are listed (a scoped grader's view). */
const groupColumnsFor = (memberScope: readonly string[] | null) => ({
  id: groups.id,
  courseId: groups.courseId,
  name: groups.name,
  // Qualified by hand: drizzle writes a lone column unqualified in a single-table select, which the subquery would bind to its own.
  members: sql<GroupView["members"]>`coalesce((select json_agg(json_build_object('userId', u.id, 'displayName', u.display_name) order by u.display_name, u.id)
    from ${groupMembers} m join ${users} u on u.id = m.user_id where m.group_id = "groups"."id"
    ${memberScope ? sql`and exists (select 1 from ${enrollments} e where e.course_id = "groups"."course_id" and e.user_id = m.user_id and e.section_id = any(${sql.param([...memberScope])}::uuid[]))` : sql``}), '[]'::json)`,
  version: groups.version,
  createdAt: groups.createdAt,
  updatedAt: groups.updatedAt,
});
export async function findGroup(db: Executor, courseId: string, groupId: string, memberScope: readonly string[] | null = null): Promise<GroupView | null> {
  const [row] = await db.select(groupColumnsFor(memberScope)).from(groups).where(and(eq(groups.id, groupId), eq(groups.courseId, courseId)));
  return row ?? null;
}

/**
 * A course's groups by name; with `memberId`, only the groups that user is in (what a learner sees); with
 * `memberScope`, each group's members placed in those sections only.
 */
export async function listGroups(db: Executor, courseId: string, memberId?: string, memberScope: readonly string[] | null = null): Promise<GroupView[]> {
  return db
    .select(groupColumnsFor(memberScope))
    .from(groups)
    .where(
      and(
        eq(groups.courseId, courseId),
        memberId ? sql`exists (select 1 from ${groupMembers} m where m.group_id = "groups"."id" and m.user_id = ${memberId})` : undefined,
      ),
    )
    .orderBy(asc(sql`lower(${groups.name})`), asc(groups.id));
}

/** Staff and admins see every group (a grader scoped to sections, only their sections' members); a learner the groups they are in. */
export async function groupsSeenBy(db: Executor, courseId: string, viewer: CourseViewer): Promise<GroupView[]> {
  if (!isCourseStaffOrAdmin(viewer)) return listGroups(db, courseId, viewer.userId);
  return listGroups(db, courseId, undefined, await viewerScope(db, courseId, viewer));
}

export async function groupSeenBy(db: Executor, courseId: string, groupId: string, viewer: CourseViewer): Promise<Result<GroupView, "GROUP_NOT_FOUND">> {
  const staff = isCourseStaffOrAdmin(viewer);
  const group = await findGroup(db, courseId, groupId, staff ? await viewerScope(db, courseId, viewer) : null);
  if (!group || !(staff || group.members.some((m) => m.userId === viewer.userId))) return fail("GROUP_NOT_FOUND");
  return ok(group);
}

export async function createGroup(ctx: DomainContext, courseId: string, name: string): Promise<Result<GroupView, SectionErrorCode>> {
  const [course] = await ctx.db.select({ id: courses.id }).from(courses).where(eq(courses.id, courseId));
  if (!course) return fail("COURSE_NOT_FOUND");
  if (!(await nameFree(ctx.db, "groups", courseId, name, null))) return fail("GROUP_NAME_TAKEN", `The course has a group named ${name}.`);
  const id = ctx.newId();
  const now = ctx.now();
  await ctx.db.insert(groups).values({ id, courseId, name, createdAt: now, updatedAt: now });
  return ok((await findGroup(ctx.db, courseId, id)) as GroupView);
}

/** Locks the group and checks the If-Match version; every change below goes through it and bumps the version. */
async function lockGroup(ctx: DomainContext, courseId: string, groupId: string, expectedVersion?: number): Promise<Result<number, SectionErrorCode>> {
  const [current] = await ctx.db
    .select({ version: groups.version })
    .from(groups)
    .where(and(eq(groups.id, groupId), eq(groups.courseId, courseId)))
    .for("update");
  if (!current) return fail("GROUP_NOT_FOUND");
  if (expectedVersion !== undefined && current.version !== expectedVersion) return fail("PRECONDITION_FAILED");
  return ok(current.version);
}

async function bump(ctx: DomainContext, groupId: string, version: number, name?: string) {
  await ctx.db
    .update(groups)
    .set({ version: version + 1, updatedAt: ctx.now(), ...(name !== undefined ? { name } : {}) })
    .where(eq(groups.id, groupId));
}

export async function renameGroup(ctx: DomainContext, courseId: string, groupId: string, name: string, expectedVersion?: number): Promise<Result<GroupView, SectionErrorCode>> {
  const locked = await lockGroup(ctx, courseId, groupId, expectedVersion);
  if (!locked.ok) return locked;
  if (!(await nameFree(ctx.db, "groups", courseId, name, groupId))) return fail("GROUP_NAME_TAKEN", `The course has a group named ${name}.`);
  await bump(ctx, groupId, locked.value, name);
  return ok((await findGroup(ctx.db, courseId, groupId)) as GroupView);
}

export async function deleteGroup(ctx: DomainContext, courseId: string, groupId: string, expectedVersion?: number): Promise<Result<null, SectionErrorCode>> {
  const locked = await lockGroup(ctx, courseId, groupId, expectedVersion);
  if (!locked.ok) return locked;
  await ctx.db.delete(groups).where(eq(groups.id, groupId));
  return ok(null);
}

/** Adds active learners of the course to a group (members already in it stay; a learner may be in several groups). */
export async function addGroupMembers(ctx: DomainContext, courseId: string, groupId: string, userIds: string[], expectedVersion?: number): Promise<Result<GroupView, SectionErrorCode>> {
  const locked = await lockGroup(ctx, courseId, groupId, expectedVersion);
  if (!locked.ok) return locked;
  const wanted = [...new Set(userIds)];
  const learners = await ctx.db
    .select({ userId: enrollments.userId })
    .from(enrollments)
    .where(and(eq(enrollments.courseId, courseId), eq(enrollments.status, "active"), sql`${enrollments.userId} = any(${sql.param(wanted)}::uuid[])`));
  const missing = wanted.filter((id) => !learners.some((l) => l.userId === id));
  if (missing.length) return fail("NOT_A_LEARNER", `Not an active learner of this course: ${missing.join(", ")}.`, { userIds: missing });
  const now = ctx.now();
  await ctx.db
    .insert(groupMembers)
    .values(wanted.map((userId) => ({ groupId, userId, addedAt: now })))
    .onConflictDoNothing();
  await bump(ctx, groupId, locked.value);
  return ok((await findGroup(ctx.db, courseId, groupId)) as GroupView);
}

export async function removeGroupMember(ctx: DomainContext, courseId: string, groupId: string, userId: string, expectedVersion?: number): Promise<Result<GroupView, SectionErrorCode>> {
  const locked = await lockGroup(ctx, courseId, groupId, expectedVersion);
  if (!locked.ok) return locked;
  const removed = await ctx.db
    .delete(groupMembers)
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)))
    .returning({ userId: groupMembers.userId });
  if (!removed.length) return fail("NOT_A_LEARNER", "This user is not in the group.");
  await bump(ctx, groupId, locked.value);
  return ok((await findGroup(ctx.db, courseId, groupId)) as GroupView);
}
