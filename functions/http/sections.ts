import { z } from "zod";
import { addGroupMembers, createGroup, deleteGroup, groupSeenBy, groupsSeenBy, removeGroupMember, renameGroup } from "../../domain/sections/groups.js";
import { createSection, deleteSection, updateSection } from "../../domain/sections/manage-sections.js";
import { placeLearner } from "../../domain/sections/place-learner.js";
import { rosterCsvSeenBy } from "../../domain/sections/roster-export.js";
import { sectionSeenBy, sectionsSeenBy } from "../../domain/sections/section-view.js";
import { setStaffSections } from "../../domain/sections/staff-scope.js";
import type { CourseViewer } from "../../domain/sections/viewer.js";
import { courseMember, courseStaff } from "../platform/http/access.js";
import { notModified } from "../platform/http/etag.js";
import { unwrap } from "../platform/http/problem.js";
import { type CallerRouteContext, route } from "../platform/http/route.js";
import { expectedVersion, groupBody, groupName, groupSchema, sectionBody, sectionEtag, sectionSchema, sectionSettingsShape, versionEtag } from "./schemas/section.js";

const courseParams = z.object({ courseId: z.uuid() });
const sectionParams = z.object({ courseId: z.uuid(), sectionId: z.uuid() });
const groupParams = z.object({ courseId: z.uuid(), groupId: z.uuid() });

const viewerOf = async (ctx: CallerRouteContext, courseId: string): Promise<CourseViewer> => ({
  userId: ctx.caller.userId,
  isAdmin: ctx.caller.isAdmin,
  role: await ctx.caller.roleIn(courseId),
});

// ---- sections

route({
  name: "sections-list",
  method: "GET",
  path: "/v1/courses/{courseId}/sections",
  access: courseMember(),
  summary: "The course's sections (a learner sees the one they are in)",
  tags: ["sections"],
  params: courseParams,
  responses: { 200: { description: "Sections by name", body: z.object({ items: z.array(sectionSchema) }) } },
  handler: async ({ params }, ctx) => {
    const items = await sectionsSeenBy(ctx.db, params.courseId, await viewerOf(ctx, params.courseId));
    return { status: 200, body: { items: items.map(sectionBody) } };
  },
});

route({
  name: "sections-create",
  method: "POST",
  path: "/v1/courses/{courseId}/sections",
  access: courseStaff(["instructor"]),
  summary: "Add a section to the course",
  tags: ["sections"],
  idempotent: true,
  params: courseParams,
  body: z.object({ name: sectionSettingsShape.name, capacity: sectionSettingsShape.capacity.default(null), scheduleUrl: sectionSettingsShape.scheduleUrl.default(null) }),
  responses: {
    201: { description: "Created", body: sectionSchema },
    404: { description: "`COURSE_NOT_FOUND`" },
    409: { description: "`SECTION_NAME_TAKEN`" },
  },
  handler: async ({ params, body }, ctx) => {
    const section = unwrap(await ctx.transaction((tx) => createSection(ctx.domain(tx), params.courseId, body)));
    return { status: 201, body: sectionBody(section), headers: { location: `/api/v1/courses/${params.courseId}/sections/${section.id}`, etag: sectionEtag(section) } };
  },
});

route({
  name: "sections-get",
  method: "GET",
  path: "/v1/courses/{courseId}/sections/{sectionId}",
  access: courseMember(),
  summary: "One section (a learner: only their own)",
  tags: ["sections"],
  conditional: "read",
  params: sectionParams,
  responses: { 200: { description: "The section", body: sectionSchema }, 404: { description: "`SECTION_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const section = unwrap(await sectionSeenBy(ctx.db, params.courseId, params.sectionId, await viewerOf(ctx, params.courseId)));
    const etag = sectionEtag(section);
    if (notModified(request, etag)) return { status: 304, headers: { etag } };
    return { status: 200, body: sectionBody(section), headers: { etag } };
  },
});

route({
  name: "sections-update",
  method: "PATCH",
  path: "/v1/courses/{courseId}/sections/{sectionId}",
  access: courseStaff(["instructor"]),
  summary: "Rename a section, or change its capacity or schedule link",
  description: "Send the ETag you read as If-Match: a section changed since then answers 412.",
  tags: ["sections"],
  conditional: "update",
  params: sectionParams,
  body: z.object({ name: sectionSettingsShape.name.optional(), capacity: sectionSettingsShape.capacity.optional(), scheduleUrl: sectionSettingsShape.scheduleUrl.optional() }),
  responses: {
    200: { description: "Updated", body: sectionSchema },
    404: { description: "`SECTION_NOT_FOUND`" },
    409: { description: "`SECTION_NAME_TAKEN`" },
  },
  handler: async ({ params, body, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    const patch = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
    const section = unwrap(await ctx.transaction((tx) => updateSection(ctx.domain(tx), params.courseId, params.sectionId, patch, version)));
    return { status: 200, body: sectionBody(section), headers: { etag: sectionEtag(section) } };
  },
});

route({
  name: "sections-delete",
  method: "DELETE",
  path: "/v1/courses/{courseId}/sections/{sectionId}",
  access: courseStaff(["instructor"]),
  summary: "Delete a section: its learners stay enrolled, in no section",
  description: "Refused (409 `SECTION_HAS_STAFF`) while a staff member is scoped to this section alone: without it they would see the whole course.",
  tags: ["sections"],
  conditional: "update",
  params: sectionParams,
  responses: { 204: { description: "Deleted" }, 404: { description: "`SECTION_NOT_FOUND`" }, 409: { description: "`SECTION_HAS_STAFF`" } },
  handler: async ({ params, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    unwrap(await ctx.transaction((tx) => deleteSection(ctx.domain(tx), params.courseId, params.sectionId, version)));
    return { status: 204 };
  },
});

route({
  name: "enrollments-section-set",
  method: "PUT",
  path: "/v1/courses/{courseId}/enrollments/{enrollmentId}/section",
  access: courseStaff(["instructor"]),
  summary: "Put an active learner in a section (sectionId null: in none)",
  description: "A section at its capacity answers 409 `SECTION_FULL`.",
  tags: ["sections"],
  params: z.object({ courseId: z.uuid(), enrollmentId: z.uuid() }),
  body: z.object({ sectionId: z.uuid().nullable() }),
  responses: {
    200: { description: "Where the learner is now", body: z.object({ enrollmentId: z.uuid(), userId: z.uuid(), sectionId: z.uuid().nullable() }) },
    404: { description: "`SECTION_NOT_FOUND`, `ENROLLMENT_NOT_FOUND`" },
    409: { description: "`SECTION_FULL`" },
  },
  handler: async ({ params, body }, ctx) => {
    const placed = unwrap(await ctx.transaction((tx) => placeLearner(ctx.domain(tx), { courseId: params.courseId, enrollmentId: params.enrollmentId, sectionId: body.sectionId })));
    return { status: 200, body: placed };
  },
});

route({
  name: "courses-staff-sections-set",
  method: "PUT",
  path: "/v1/courses/{courseId}/staff/{userId}/sections",
  access: courseStaff(["instructor"]),
  summary: "Scope a staff member to sections of the course (an empty list: the whole course)",
  description: "A scoped grader sees and grades only their sections' learners. Audited.",
  tags: ["sections"],
  params: z.object({ courseId: z.uuid(), userId: z.uuid() }),
  body: z.object({ sectionIds: z.array(z.uuid()).max(200) }),
  responses: {
    200: { description: "The staff member's sections", body: z.object({ userId: z.uuid(), sectionIds: z.array(z.uuid()) }) },
    404: { description: "`COURSE_NOT_FOUND`, `NOT_COURSE_STAFF`, `SECTION_NOT_FOUND`" },
  },
  handler: async ({ params, body }, ctx) => {
    const sectionIds = unwrap(await ctx.transaction((tx) => setStaffSections(ctx.domain(tx), { ...params, sectionIds: body.sectionIds })));
    return { status: 200, body: { userId: params.userId, sectionIds } };
  },
});

route({
  name: "courses-roster-csv",
  method: "GET",
  path: "/v1/courses/{courseId}/roster.csv",
  access: courseStaff(["instructor", "grader"]),
  summary: "The course's roster as CSV, in the columns the `enrollments` import takes (course,email,name,role,section)",
  description:
    "Staff (one row per section a scoped member has) and active learners (a grader scoped to sections: only their sections' learners). Importing the file into the course again changes nothing.",
  tags: ["sections"],
  params: courseParams,
  responses: { 200: { description: "The roster", contentType: "text/csv", body: z.string() }, 404: { description: "`COURSE_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const csv = unwrap(await rosterCsvSeenBy(ctx.db, params.courseId, ctx.caller));
    return {
      raw: {
        status: 200,
        headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="roster-${params.courseId}.csv"`, "cache-control": "private, no-store" },
        body: csv,
      },
    };
  },
});

// ---- groups

route({
  name: "groups-list",
  method: "GET",
  path: "/v1/courses/{courseId}/groups",
  access: courseMember(),
  summary: "The course's groups (a learner sees the groups they are in)",
  tags: ["sections"],
  params: courseParams,
  responses: { 200: { description: "Groups by name", body: z.object({ items: z.array(groupSchema) }) } },
  handler: async ({ params }, ctx) => {
    const items = await groupsSeenBy(ctx.db, params.courseId, await viewerOf(ctx, params.courseId));
    return { status: 200, body: { items: items.map(groupBody) } };
  },
});

route({
  name: "groups-create",
  method: "POST",
  path: "/v1/courses/{courseId}/groups",
  access: courseStaff(["instructor"]),
  summary: "Add a group to the course",
  tags: ["sections"],
  idempotent: true,
  params: courseParams,
  body: z.object({ name: groupName }),
  responses: { 201: { description: "Created", body: groupSchema }, 404: { description: "`COURSE_NOT_FOUND`" }, 409: { description: "`GROUP_NAME_TAKEN`" } },
  handler: async ({ params, body }, ctx) => {
    const group = unwrap(await ctx.transaction((tx) => createGroup(ctx.domain(tx), params.courseId, body.name)));
    return { status: 201, body: groupBody(group), headers: { location: `/api/v1/courses/${params.courseId}/groups/${group.id}`, etag: versionEtag(group) } };
  },
});

route({
  name: "groups-get",
  method: "GET",
  path: "/v1/courses/{courseId}/groups/{groupId}",
  access: courseMember(),
  summary: "One group with its members (a learner: only a group they are in)",
  tags: ["sections"],
  conditional: "read",
  params: groupParams,
  responses: { 200: { description: "The group", body: groupSchema }, 404: { description: "`GROUP_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const group = unwrap(await groupSeenBy(ctx.db, params.courseId, params.groupId, await viewerOf(ctx, params.courseId)));
    const etag = versionEtag(group);
    if (notModified(request, etag)) return { status: 304, headers: { etag } };
    return { status: 200, body: groupBody(group), headers: { etag } };
  },
});

route({
  name: "groups-update",
  method: "PATCH",
  path: "/v1/courses/{courseId}/groups/{groupId}",
  access: courseStaff(["instructor"]),
  summary: "Rename a group",
  description: "Send the ETag you read as If-Match: a group changed since then answers 412.",
  tags: ["sections"],
  conditional: "update",
  params: groupParams,
  body: z.object({ name: groupName }),
  responses: { 200: { description: "Updated", body: groupSchema }, 404: { description: "`GROUP_NOT_FOUND`" }, 409: { description: "`GROUP_NAME_TAKEN`" } },
  handler: async ({ params, body, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    const group = unwrap(await ctx.transaction((tx) => renameGroup(ctx.domain(tx), params.courseId, params.groupId, body.name, version)));
    return { status: 200, body: groupBody(group), headers: { etag: versionEtag(group) } };
  },
});

route({
  name: "groups-delete",
  method: "DELETE",
  path: "/v1/courses/{courseId}/groups/{groupId}",
  access: courseStaff(["instructor"]),
  summary: "Delete a group (its members stay enrolled)",
  tags: ["sections"],
  conditional: "update",
  params: groupParams,
  responses: { 204: { description: "Deleted" }, 404: { description: "`GROUP_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    unwrap(await ctx.transaction((tx) => deleteGroup(ctx.domain(tx), params.courseId, params.groupId, version)));
    return { status: 204 };
  },
});

route({
  name: "groups-members-add",
  method: "POST",
  path: "/v1/courses/{courseId}/groups/{groupId}/members",
  access: courseStaff(["instructor"]),
  summary: "Add active learners of the course to a group",
  tags: ["sections"],
  conditional: "update",
  params: groupParams,
  body: z.object({ userIds: z.array(z.uuid()).min(1).max(500) }),
  responses: { 200: { description: "The group", body: groupSchema }, 404: { description: "`GROUP_NOT_FOUND`" }, 422: { description: "`NOT_A_LEARNER`" } },
  handler: async ({ params, body, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    const group = unwrap(await ctx.transaction((tx) => addGroupMembers(ctx.domain(tx), params.courseId, params.groupId, body.userIds, version)));
    return { status: 200, body: groupBody(group), headers: { etag: versionEtag(group) } };
  },
});

route({
  name: "groups-members-remove",
  method: "DELETE",
  path: "/v1/courses/{courseId}/groups/{groupId}/members/{userId}",
  access: courseStaff(["instructor"]),
  summary: "Remove a learner from a group",
  tags: ["sections"],
  conditional: "update",
  params: z.object({ courseId: z.uuid(), groupId: z.uuid(), userId: z.uuid() }),
  responses: { 200: { description: "The group", body: groupSchema }, 404: { description: "`GROUP_NOT_FOUND`" }, 422: { description: "`NOT_A_LEARNER`" } },
  handler: async ({ params, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    const group = unwrap(await ctx.transaction((tx) => removeGroupMember(ctx.domain(tx), params.courseId, params.groupId, params.userId, version)));
    return { status: 200, body: groupBody(group), headers: { etag: versionEtag(group) } };
  },
});
