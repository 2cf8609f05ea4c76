import { z } from "zod";
import { fileStatuses, lessonKinds } from "../../../domain/db/schema/index.js";
import type { LessonRow, ModuleRow } from "../../../domain/catalog/content.js";
import { renderMarkdown } from "../../../domain/shared/markdown.js";
import { isoOrNull } from "./dates.js";

const iso = z.iso.datetime();

export const lessonSchema = z
  .object({
    id: z.uuid(),
    moduleId: z.uuid(),
    courseId: z.uuid(),
    title: z.string(),
    kind: z.enum(lessonKinds),
    position: z.number().int(),
    required: z.boolean(),
    unlockAt: iso.nullable(),
    hidden: z.boolean(),
    locked: z.enum(["unlocks-later", "earlier-lessons-first"]).nullable().meta({ description: "Why the lesson is not open to you yet; null when it is" }),
    completed: z.boolean().nullable().meta({ description: "For learners: whether you completed it" }),
    body: z.string().nullable().meta({ description: "Markdown, for text lessons (omitted while locked)" }),
    url: z.string().nullable(),
    assessmentId: z.uuid().nullable(),
    file: z
      .object({
        name: z.string().nullable(),
        contentType: z.string().nullable(),
        sizeBytes: z.number().int().nullable(),
        status: z.enum(fileStatuses).nullable(),
        downloadUrl: z.string().nullable().meta({ description: "Short-lived read-only URL, when the file is ready and the lesson open" }),
        downloadUrlExpiresAt: iso.nullable(),
        viewUrl: z.string().nullable().meta({ description: "A PDF's short-lived read URL that shows it inline (for a frame); `downloadUrl` saves it" }),
      })
      .nullable(),
    version: z.number().int(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: "Lesson" });
export type LessonBody = z.infer<typeof lessonSchema>;

/** One lesson on its own: also its text as HTML (lists leave it out, to stay cheap to render). */
export const lessonDetailSchema = lessonSchema
  .extend({
    bodyHtml: z.string().nullable().meta({ description: "A text lesson's Markdown rendered to sanitised HTML, headings starting at h2 (omitted while locked)" }),
  })
  .meta({ id: "LessonDetail" });

export const moduleSchema = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    title: z.string(),
    position: z.number().int(),
    hidden: z.boolean(),
    lessons: z.array(lessonSchema).optional(),
  })
  .meta({ id: "Module" });

export interface LessonPresentation {
  locked: LessonBody["locked"];
  completed: boolean | null;
  download?: { url: string; viewUrl?: string | null; expiresAt: Date } | null;
}

/** A lesson as its viewer may see it: a locked lesson shows what it is, not what it holds. */
export function lessonBody(l: LessonRow, view: LessonPresentation): LessonBody {
  const open = view.locked === null;
  return {
    id: l.id,
    moduleId: l.moduleId,
    courseId: l.courseId,
    title: l.title,
    kind: l.kind,
    position: l.position,
    required: l.required,
    unlockAt: isoOrNull(l.unlockAt),
    hidden: l.hiddenAt !== null,
    locked: view.locked,
    completed: view.completed,
    body: open ? l.body : null,
    url: open ? l.url : null,
    assessmentId: l.assessmentId,
    file:
      l.kind === "file"
        ? {
            name: l.fileName,
            contentType: l.fileContentType,
            sizeBytes: l.fileSizeBytes,
            status: l.fileStatus,
            downloadUrl: open && view.download ? view.download.url : null,
            downloadUrlExpiresAt: open && view.download ? view.download.expiresAt.toISOString() : null,
            viewUrl: open && view.download ? (view.download.viewUrl ?? null) : null,
          }
        : null,
    version: l.version,
    createdAt: l.createdAt.toISOString(),
    updatedAt: l.updatedAt.toISOString(),
  };
}

export const moduleBody = (m: ModuleRow, lessons?: LessonBody[]) => ({
  id: m.id,
  courseId: m.courseId,
  title: m.title,
  position: m.position,
  hidden: m.hiddenAt !== null,
  ...(lessons ? { lessons } : {}),
});

/** A lesson as `lessonBody` shows it, with its text rendered for a page. */
export function lessonDetailBody(l: LessonRow, view: LessonPresentation): z.infer<typeof lessonDetailSchema> {
  const body = lessonBody(l, view);
  return { ...body, bodyHtml: body.body ? renderMarkdown(body.body) : null };
}
