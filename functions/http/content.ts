import { z } from "zod";
import {
  completeLesson,
  createLesson,
  createModule,
  deleteLesson,
  findLesson,
  type LessonRow,
  reorderLessons,
  reorderModules,
  updateLesson,
  updateModule,
} from "../../domain/catalog/content.js";
import { confirmLessonUpload, lessonFileTypes, MAX_LESSON_FILE_BYTES, requestLessonUpload } from "../../domain/catalog/lesson-files.js";
import { courseContentFor, type LessonView, lessonFor, moduleLessonsFor } from "../../domain/catalog/lesson-view.js";
import { lessonKinds } from "../../domain/db/schema/index.js";
import { courseMember, courseStaff, type Locator } from "../platform/http/access.js";
import { assertIfMatch, etagOf, notModified } from "../platform/http/etag.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { lessonBody, lessonDetailBody, lessonDetailSchema, lessonSchema, moduleBody, moduleSchema } from "./schemas/lesson.js";
import { toDate } from "./schemas/dates.js";

const courseParams = z.object({ courseId: z.uuid() });
const moduleParams = z.object({ courseId: z.uuid(), moduleId: z.uuid() });
const lessonParams = z.object({ lessonId: z.uuid() });

/** Lesson routes carry no course id: the access check looks the lesson's course up. */
const lessonCourse: Locator = {
  describe: "the lesson's course",
  resolve: async (params, db) => (await findLesson(db, params.lessonId as string))?.courseId ?? null,
};

const isoDate = z.iso.datetime();

const viewBody = (v: LessonView) => lessonBody(v.lesson, v);

route({
  name: "modules-list",
  method: "GET",
  path: "/v1/courses/{courseId}/modules",
  access: courseMember(),
  summary: "The course's modules with their lessons, in order",
  description: "Learners see what is open to them (unlock times, sequential progress); staff also see hidden content.",
  tags: ["content"],
  params: courseParams,
  responses: { 200: { description: "The outline", body: z.object({ items: z.array(moduleSchema) }) } },
  handler: async ({ params }, ctx) => {
    const content = await courseContentFor(ctx.db, ctx.platform.files, params.courseId, ctx.caller, ctx.now());
    return { status: 200, body: { items: content.map((m) => moduleBody(m.module, m.lessons.map(viewBody))) } };
  },
});

route({
  name: "modules-create",
  method: "POST",
  path: "/v1/courses/{courseId}/modules",
  access: courseStaff(["instructor"]),
  summary: "Add a module at the end of the course",
  tags: ["content"],
  params: courseParams,
  body: z.object({ title: z.string().trim().min(1).max(200) }),
  responses: { 201: { description: "Created", body: moduleSchema }, 404: { description: "`COURSE_NOT_FOUND`" }, 409: { description: "`COURSE_ARCHIVED`" } },
  handler: async ({ params, body }, ctx) => {
    const mod = unwrap(await ctx.transaction((tx) => createModule(ctx.domain(tx), params.courseId, body)));
    return { status: 201, body: moduleBody(mod) };
  },
});

route({
  name: "modules-update",
  method: "PATCH",
  path: "/v1/courses/{courseId}/modules/{moduleId}",
  access: courseStaff(["instructor"]),
  summary: "Rename a module, or hide it from learners",
  tags: ["content"],
  params: moduleParams,
  body: z.object({ title: z.string().trim().min(1).max(200).optional(), hidden: z.boolean().optional() }),
  responses: { 200: { description: "Updated", body: moduleSchema }, 404: { description: "`MODULE_NOT_FOUND`" } },
  handler: async ({ params, body }, ctx) => {
    const mod = unwrap(await ctx.transaction((tx) => updateModule(ctx.domain(tx), params, body)));
    return { status: 200, body: moduleBody(mod) };
  },
});

route({
  name: "modules-reorder",
  method: "POST",
  path: "/v1/courses/{courseId}/modules/reorder",
  access: courseStaff(["instructor"]),
  summary: "Put the course's modules in a new order",
  tags: ["content"],
  params: courseParams,
  body: z.object({ moduleIds: z.array(z.uuid()).min(1).max(500) }),
  responses: { 200: { description: "Modules in their new order", body: z.object({ items: z.array(moduleSchema) }) }, 422: { description: "`REORDER_MISMATCH`" } },
  handler: async ({ params, body }, ctx) => {
    const mods = unwrap(await ctx.transaction((tx) => reorderModules(ctx.domain(tx), params.courseId, body.moduleIds)));
    return { status: 200, body: { items: mods.map((m) => moduleBody(m)) } };
  },
});

route({
  name: "lessons-list",
  method: "GET",
  path: "/v1/courses/{courseId}/modules/{moduleId}/lessons",
  access: courseMember(),
  summary: "A module's lessons, in order",
  tags: ["content"],
  params: moduleParams,
  responses: { 200: { description: "Lessons", body: z.object({ items: z.array(lessonSchema) }) }, 404: { description: "`MODULE_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const lessons = unwrap(await moduleLessonsFor(ctx.db, ctx.platform.files, params, ctx.caller, ctx.now()));
    return { status: 200, body: { items: lessons.map(viewBody) } };
  },
});

const lessonFields = {
  title: z.string().trim().min(1).max(200),
  body: z.string().max(200_000).nullable(),
  url: z.url({ protocol: /^https?$/ }).max(2048).nullable(),
  assessmentId: z.uuid().nullable(),
  unlockAt: isoDate.nullable(),
  required: z.boolean(),
};

route({
  name: "lessons-create",
  method: "POST",
  path: "/v1/courses/{courseId}/modules/{moduleId}/lessons",
  access: courseStaff(["instructor"]),
  summary: "Add a lesson at the end of a module",
  description: "Kinds: `text` (markdown `body`), `file` (upload through `POST /lessons/{id}/files`), `link` (`url`), `assessment` (`assessmentId`).",
  tags: ["content"],
  params: moduleParams,
  body: z.object({
    title: lessonFields.title,
    kind: z.enum(lessonKinds),
    body: lessonFields.body.optional(),
    url: lessonFields.url.optional(),
    assessmentId: lessonFields.assessmentId.optional(),
    unlockAt: lessonFields.unlockAt.optional(),
    required: lessonFields.required.optional(),
  }),
  responses: { 201: { description: "Created", body: lessonSchema }, 422: { description: "`INVALID_COURSE_SETTINGS` (e.g. a text lesson without body)" }, 404: { description: "`MODULE_NOT_FOUND`" } },
  handler: async ({ params, body }, ctx) => {
    const { unlockAt, ...rest } = body;
    const lesson = unwrap(await ctx.transaction((tx) => createLesson(ctx.domain(tx), params, { ...rest, ...(unlockAt !== undefined ? { unlockAt: toDate(unlockAt) ?? null } : {}) })));
    return { status: 201, body: lessonBody(lesson, { locked: null, completed: null }), headers: { location: `/api/v1/lessons/${lesson.id}` } };
  },
});

route({
  name: "lessons-reorder",
  method: "POST",
  path: "/v1/courses/{courseId}/modules/{moduleId}/lessons/reorder",
  access: courseStaff(["instructor"]),
  summary: "Put a module's lessons in a new order",
  tags: ["content"],
  params: moduleParams,
  body: z.object({ lessonIds: z.array(z.uuid()).min(1).max(500) }),
  responses: { 200: { description: "Lessons in their new order", body: z.object({ items: z.array(lessonSchema) }) }, 422: { description: "`REORDER_MISMATCH`" }, 404: { description: "`MODULE_NOT_FOUND`" } },
  handler: async ({ params, body }, ctx) => {
    const list = unwrap(await ctx.transaction((tx) => reorderLessons(ctx.domain(tx), params, body.lessonIds)));
    return { status: 200, body: { items: list.map((l) => lessonBody(l, { locked: null, completed: null })) } };
  },
});

const lessonEtag = (l: LessonRow) => etagOf(`lesson:${l.id}:${l.version}`);

route({
  name: "lessons-get",
  method: "GET",
  path: "/v1/lessons/{lessonId}",
  access: courseMember(lessonCourse),
  summary: "One lesson; learners get its content (and a short-lived file URL) once it is open to them",
  tags: ["content"],
  conditional: "read",
  params: lessonParams,
  responses: { 200: { description: "The lesson", body: lessonDetailSchema }, 404: { description: "`LESSON_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const { view, asStaff } = unwrap(await lessonFor(ctx.db, ctx.platform.files, params.lessonId, ctx.caller, ctx.now()));
    const body = lessonDetailBody(view.lesson, view);
    // The download URL changes with every answer, so the ETag covers what the lesson is, not the URL. Staff
    // get the lesson's own ETag, the one PATCH compares If-Match with.
    const etag = asStaff ? lessonEtag(view.lesson) : etagOf({ v: lessonEtag(view.lesson), locked: body.locked, completed: body.completed });
    if (notModified(request, etag)) return { status: 304, headers: { etag } };
    return { status: 200, body, headers: { etag, "cache-control": "private, no-cache" } };
  },
});

route({
  name: "lessons-update",
  method: "PATCH",
  path: "/v1/lessons/{lessonId}",
  access: courseStaff(["instructor"], lessonCourse),
  summary: "Change a lesson, or hide it from learners",
  tags: ["content"],
  conditional: "update",
  params: lessonParams,
  body: z.object({
    title: lessonFields.title.optional(),
    body: lessonFields.body.optional(),
    url: lessonFields.url.optional(),
    assessmentId: lessonFields.assessmentId.optional(),
    unlockAt: lessonFields.unlockAt.optional(),
    required: lessonFields.required.optional(),
    hidden: z.boolean().optional(),
  }),
  responses: { 200: { description: "Updated", body: lessonSchema }, 422: { description: "`INVALID_COURSE_SETTINGS`" }, 404: { description: "`LESSON_NOT_FOUND`" } },
  handler: async ({ params, body, request }, ctx) => {
    const { unlockAt, ...rest } = body;
    const patch = { ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)), ...(unlockAt !== undefined ? { unlockAt: toDate(unlockAt) ?? null } : {}) };
    const lesson = unwrap(await ctx.transaction((tx) => updateLesson(ctx.domain(tx), params.lessonId, patch, (current) => assertIfMatch(request, lessonEtag(current)))));
    return { status: 200, body: lessonBody(lesson, { locked: null, completed: null }), headers: { etag: lessonEtag(lesson) } };
  },
});

route({
  name: "lessons-delete",
  method: "DELETE",
  path: "/v1/lessons/{lessonId}",
  access: courseStaff(["instructor"], lessonCourse),
  summary: "Delete a lesson no learner has worked in (otherwise hide it)",
  tags: ["content"],
  params: lessonParams,
  responses: { 204: { description: "Deleted" }, 409: { description: "`CONTENT_HAS_LEARNER_WORK`" }, 404: { description: "`LESSON_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => deleteLesson(ctx.domain(tx), params.lessonId)));
    return { status: 204 };
  },
});

const uploadSchema = z
  .object({
    blobName: z.string(),
    url: z.string().meta({ description: "Short-lived, write-only URL: PUT the file's bytes here" }),
    method: z.literal("PUT"),
    headers: z.record(z.string(), z.string()).meta({ description: "Send these headers with the upload" }),
    expiresAt: isoDate,
  })
  .meta({ id: "UploadGrant" });

route({
  name: "lessons-file-upload",
  method: "POST",
  path: "/v1/lessons/{lessonId}/files",
  access: courseStaff(["instructor"], lessonCourse),
  summary: "Ask for a URL to upload a file lesson's file straight to storage",
  description: "Declare the file's name, type and exact size; upload with the returned URL and headers, then confirm.",
  tags: ["content"],
  params: lessonParams,
  body: z.object({
    fileName: z.string().trim().min(1).max(255),
    contentType: z.string().regex(lessonFileTypes, "not a supported lesson file type (video, audio, image, PDF, text, zip, office)"),
    sizeBytes: z.number().int().min(1).max(MAX_LESSON_FILE_BYTES),
  }),
  responses: { 201: { description: "Upload URL", body: uploadSchema }, 409: { description: "`LESSON_NOT_A_FILE`" }, 404: { description: "`LESSON_NOT_FOUND`" } },
  handler: async ({ params, body }, ctx) => {
    const grant = unwrap(await ctx.transaction((tx) => requestLessonUpload(ctx.domain(tx), ctx.platform.files, params.lessonId, body)));
    return { status: 201, body: { ...grant, expiresAt: grant.expiresAt.toISOString() }, headers: { "cache-control": "no-store" } };
  },
});

route({
  name: "lessons-file-confirm",
  method: "POST",
  path: "/v1/lessons/{lessonId}/files/confirm",
  access: courseStaff(["instructor"], lessonCourse),
  summary: "Confirm the upload: the stored file must match what was declared",
  tags: ["content"],
  params: lessonParams,
  responses: { 200: { description: "The lesson, its file ready", body: lessonSchema }, 409: { description: "`FILE_NOT_UPLOADED`, `LESSON_NOT_A_FILE`" }, 422: { description: "`FILE_MISMATCH`" }, 404: { description: "`LESSON_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const lesson = unwrap(await ctx.transaction((tx) => confirmLessonUpload(ctx.domain(tx), ctx.platform.files, params.lessonId)));
    return { status: 200, body: lessonBody(lesson, { locked: null, completed: null }) };
  },
});

route({
  name: "lessons-complete",
  method: "POST",
  path: "/v1/lessons/{lessonId}/complete",
  access: courseMember(lessonCourse),
  summary: "Mark a lesson completed (once; repeating it changes nothing)",
  tags: ["content"],
  params: lessonParams,
  responses: { 200: { description: "Completed", body: z.object({ lessonId: z.uuid(), completedAt: isoDate }) }, 403: { description: "`LESSON_LOCKED`" }, 404: { description: "`LESSON_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const done = unwrap(await ctx.transaction((tx) => completeLesson(ctx.domain(tx), params.lessonId, ctx.caller.userId)));
    return { status: 200, body: { lessonId: params.lessonId, completedAt: done.completedAt.toISOString() } };
  },
});
