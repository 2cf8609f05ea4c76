import { z } from "zod";
import { generationJobStatuses } from "../../domain/db/schema/index.js";
import { generationDocumentTypes, generationJobById, type GenerationJobView, jobWithCourse, requestGenerationDocument, startGenerationJob } from "../../domain/generation/generation-jobs.js";
import { sendGenerationJob } from "../generation/send-generation-job.js";
import { adminOnly, anyOf, courseStaffOfAny } from "../platform/http/access.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { isoOrNull } from "./schemas/dates.js";
import { bankManagers, bankParams, itemTypes, ownCourse } from "./schemas/question-banks.js";
import { generationConfigured, type Settings } from "../platform/settings.js";

const iso = z.iso.datetime();
const jobParams = z.object({ jobId: z.uuid() });

// A job is managed by whoever manages its bank (bankManagers): the bank's course instructors; a shared bank's,
// administrators.
const jobInstructors = anyOf(
  adminOnly,
  courseStaffOfAny(["instructor"], {
    describe: "the job's bank's course",
    resolve: async (params, db) => {
      const found = await jobWithCourse(db, params.jobId as string);
      return found ? ownCourse({ courseId: found.bankCourseId, sharedWith: [] }) : null;
    },
  }),
);

const startBody = z.object({
  count: z.number().int().min(1).meta({ description: "Items to draft: 1 to GENERATION_MAX_ITEMS (20 by default)" }),
  itemTypes: z.array(z.enum(itemTypes)).min(1).max(itemTypes.length).meta({ description: "The item types the drafts may have" }),
  source: z.union([z.strictObject({ lessonId: z.uuid() }), z.strictObject({ documentId: z.uuid() })]).meta({ description: "A lesson of the bank's course (its text body), or a document uploaded through generation-documents" }),
});

const documentBody = z.object({
  fileName: z.string().trim().min(1).max(255),
  contentType: z.enum(generationDocumentTypes),
  size: z.number().int().min(1).meta({ description: "The file's exact size in bytes (at most GENERATION_MAX_DOCUMENT_BYTES, 10 MiB by default)" }),
});

const progressSchema = z.object({ requested: z.number().int(), generated: z.number().int(), stored: z.number().int(), discarded: z.number().int() });

const jobSchema = z.object({
  id: z.uuid(),
  bankId: z.uuid(),
  courseId: z.uuid(),
  status: z.enum(generationJobStatuses),
  count: z.number().int(),
  itemTypes: z.array(z.enum(itemTypes)),
  source: z.union([z.object({ kind: z.literal("lesson"), lessonId: z.uuid() }), z.object({ kind: z.literal("document"), documentId: z.uuid(), fileName: z.string(), contentType: z.string() })]),
  progress: progressSchema,
  calls: z.number().int().meta({ description: "Requests made to the model so far (rate-limited, unreadable and failed ones included)" }),
  notBefore: iso.nullable().meta({ description: "Rate limited: the job waits until then" }),
  result: z.object({
    itemIds: z.array(z.uuid()).meta({ description: "The draft items stored (approve each before a pool draws it)" }),
    discarded: z.array(z.object({ index: z.number().int(), reason: z.string() })),
    error: z.string().nullable(),
  }),
  createdAt: iso,
  startedAt: iso.nullable(),
  finishedAt: iso.nullable(),
});

function jobBody({ job, itemIds }: GenerationJobView): z.infer<typeof jobSchema> {
  return {
    id: job.id,
    bankId: job.bankId,
    courseId: job.courseId,
    status: job.status,
    count: job.count,
    itemTypes: job.itemTypes,
    source: job.source.kind === "lesson" ? job.source : { kind: "document", documentId: job.id, fileName: job.source.fileName, contentType: job.source.contentType },
    progress: job.progress,
    calls: job.calls,
    notBefore: isoOrNull(job.notBefore),
    result: { itemIds, discarded: job.discarded, error: job.error },
    createdAt: job.createdAt.toISOString(),
    startedAt: isoOrNull(job.startedAt),
    finishedAt: isoOrNull(job.finishedAt),
  };
}

const jobUrl = (id: string) => `/api/v1/generation-jobs/${id}`;

const NOT_CONFIGURED_DETAIL =
  "No model is configured. Set AZURE_OPENAI_ENDPOINT (the Azure OpenAI account's endpoint) and AZURE_OPENAI_DEPLOYMENT (the model deployment's name), " +
  "with AZURE_OPENAI_API_KEY or, left empty, the app's managed identity holding Cognitive Services OpenAI User. " +
  "Locally, AZURE_OPENAI_ENDPOINT=UseDevelopmentOpenAI=true uses the runtime's stand-in model.";

/** 503 `GENERATION_NOT_CONFIGURED` (naming the settings to set) when no model is configured. */
function requireModel(s: Settings): void {
  if (!generationConfigured(s)) throw new ProblemError("GENERATION_NOT_CONFIGURED", { detail: NOT_CONFIGURED_DETAIL });
}

route({
  name: "generation-jobs-create",
  method: "POST",
  path: "/v1/question-banks/{bankId}/generation-jobs",
  access: bankManagers,
  idempotent: true,
  summary: "Ask a model for draft items from a lesson or an uploaded document",
  description:
    "The job is queued and runs on the AI generator worker; poll it at the Location. Every item the model gives is checked like a hand-written one; the good ones are stored as drafts (origin `generated`) that a person approves before any pool draws them, the others are listed with their reason. A document is used by one job. Send an Idempotency-Key: the same request again answers the same job.",
  tags: ["question-banks"],
  params: bankParams,
  body: startBody,
  responses: {
    202: { description: "Queued", body: jobSchema },
    404: { description: "`QUESTION_BANK_NOT_FOUND`, `LESSON_NOT_FOUND` (not a lesson of the bank's course), `GENERATION_DOCUMENT_NOT_FOUND`" },
    409: { description: "`GENERATION_DOCUMENT_NOT_UPLOADED`: nothing uploaded yet, or the document was used by a job already" },
    413: { description: "`DOCUMENT_TOO_LARGE`: the uploaded document is over GENERATION_MAX_DOCUMENT_BYTES" },
    422: { description: "`GENERATION_TOO_MANY_ITEMS`, `GENERATION_SOURCE_EMPTY`, `GENERATION_DOCUMENT_MISMATCH`" },
    503: { description: "`GENERATION_NOT_CONFIGURED`: no model (the detail says which settings to set)" },
  },
  handler: async ({ params, body }, ctx) => {
    const s = ctx.platform.settings;
    requireModel(s);
    const job = unwrap(
      await ctx.transaction((tx) =>
        startGenerationJob(ctx.domain(tx), ctx.platform.files, params.bankId, body, { maxItems: s.GENERATION_MAX_ITEMS, maxDocumentBytes: s.GENERATION_MAX_DOCUMENT_BYTES }),
      ),
    );
    // After the commit. A redelivered or duplicated message finds the job claimed and does nothing.
    ctx.afterCommit(() => sendGenerationJob(ctx.platform, { jobId: job.id, traceparent: ctx.trace.traceparent }));
    return { status: 202, body: jobBody({ job, itemIds: [] }), headers: { location: jobUrl(job.id), "cache-control": "no-store" } };
  },
});

route({
  name: "generation-jobs-get",
  method: "GET",
  path: "/v1/generation-jobs/{jobId}",
  access: jobInstructors,
  summary: "A generation job's status, progress and result (stored draft item ids, discarded items with reasons, error)",
  tags: ["question-banks"],
  params: jobParams,
  responses: { 200: { description: "The job", body: jobSchema }, 404: { description: "`GENERATION_JOB_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const found = unwrap(await generationJobById(ctx.db, params.jobId));
    return { status: 200, body: jobBody(found), headers: { "cache-control": "no-store" } };
  },
});

route({
  name: "generation-documents-create",
  method: "POST",
  path: "/v1/question-banks/{bankId}/generation-documents",
  access: bankManagers,
  summary: "Ask for a URL to upload a document to generate items from (plain text, markdown or PDF)",
  description: "Upload the file's exact bytes with the returned URL and headers (straight to storage), then start a job with `source: {documentId}`.",
  tags: ["question-banks"],
  params: bankParams,
  body: documentBody,
  responses: {
    201: {
      description: "The document, awaiting its upload, and where to upload",
      body: z.object({
        documentId: z.uuid(),
        fileName: z.string(),
        contentType: z.enum(generationDocumentTypes),
        size: z.number().int(),
        upload: z.object({ url: z.string(), method: z.literal("PUT"), headers: z.record(z.string(), z.string()), expiresAt: iso }),
      }),
    },
    404: { description: "`QUESTION_BANK_NOT_FOUND`" },
    413: { description: "`DOCUMENT_TOO_LARGE`: the declared size is over GENERATION_MAX_DOCUMENT_BYTES" },
    422: { description: "`GENERATION_NEEDS_COURSE`: a shared bank generates from lessons only" },
    503: { description: "`GENERATION_NOT_CONFIGURED`: no model (the detail says which settings to set)" },
  },
  handler: async ({ params, body }, ctx) => {
    requireModel(ctx.platform.settings);
    const created = unwrap(await ctx.transaction((tx) => requestGenerationDocument(ctx.domain(tx), ctx.platform.files, params.bankId, body, ctx.platform.settings.GENERATION_MAX_DOCUMENT_BYTES)));
    const { document, upload } = created;
    return {
      status: 201,
      body: { documentId: document.id, fileName: body.fileName, contentType: body.contentType, size: body.size, upload: { url: upload.url, method: upload.method, headers: upload.headers, expiresAt: upload.expiresAt.toISOString() } },
      headers: { "cache-control": "no-store" },
    };
  },
});
