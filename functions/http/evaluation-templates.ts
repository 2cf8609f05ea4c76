import { z } from "zod";
import { createTemplate, listTemplates, templateById, type TemplateView, updateTemplate } from "../../domain/evaluations/evaluation-templates.js";
import { questionsSchema } from "../../domain/evaluations/questions.js";
import { templateResults, templateResultsCsv } from "../../domain/evaluations/results.js";
import { adminOnly, instructorAnywhere } from "../platform/http/access.js";
import { notModified, versionFromIfMatch } from "../platform/http/etag.js";
import { decodeCursorAs, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { isoOrNull } from "./schemas/dates.js";
import { questionSummarySchema, storedQuestionSchema } from "./schemas/evaluation.js";
import { wantsCsv } from "./schemas/csv.js";
import { plain } from "./schemas/text.js";

const iso = z.iso.datetime();
const templateParams = z.object({ templateId: z.uuid() });

const templateSchema = z
  .object({
    id: z.uuid(),
    title: z.string(),
    description: z.string(),
    questions: z.array(storedQuestionSchema),
    archivedAt: iso.nullable(),
    inUse: z.boolean().meta({ description: "Evaluations use it: its questions are fixed (make a new template to change them)" }),
    version: z.number().int(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: "EvaluationTemplate" });

const templateBody = (t: TemplateView): z.input<typeof templateSchema> => ({
  id: t.id,
  title: t.title,
  description: t.description,
  questions: t.questions,
  archivedAt: isoOrNull(t.archivedAt),
  inUse: t.inUse,
  version: t.version,
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
});

// The version changes with every edit; inUse (which changes without one: an evaluation is opened) is in the tag too.
const templateEtag = (t: TemplateView) => `"v${t.version}.u${t.inUse ? 1 : 0}"`;

/** The ETags templateEtag makes (the version is the first group). */
const templateEtagPattern = /^"v(\d+)\.u[01]"$/;

const questionsDescription =
  "likert (a 1..n scale, 5 points unless `options` labels it), choice (2–20 unique options, one is chosen) or text (free text up to 5,000 characters); each with a stable slug `id` (unique; results compare by it across terms), a `prompt` and `required`. At most 50.";

route({
  name: "evaluation-templates-create",
  method: "POST",
  path: "/v1/evaluation-templates",
  access: adminOnly,
  summary: "Define a course evaluation template (administrators)",
  description: questionsDescription,
  tags: ["evaluations"],
  body: z.object({ title: plain(200).min(1), description: plain(5000).default(""), questions: questionsSchema }),
  responses: { 201: { description: "Created", body: templateSchema } },
  handler: async ({ body }, ctx) => {
    const template = await ctx.transaction((tx) => createTemplate(ctx.domain(tx), body));
    return { status: 201, body: templateBody(template), headers: { location: `/api/v1/evaluation-templates/${template.id}`, etag: templateEtag(template) } };
  },
});

route({
  name: "evaluation-templates-list",
  method: "GET",
  path: "/v1/evaluation-templates",
  access: instructorAnywhere,
  summary: "Evaluation templates, newest first (administrators and instructors, who open evaluations from them)",
  tags: ["evaluations"],
  query: z.object({ ...pageQuery, archived: z.enum(["true", "false"]).default("false").transform((v) => v === "true").meta({ description: "true: archived ones too" }) }),
  responses: { 200: { description: "A page of templates", body: pageOf(templateSchema) }, 400: { description: "`INVALID_CURSOR`" } },
  handler: async ({ query, request }, ctx) => {
    const after = decodeCursorAs(query.cursor, z.tuple([z.uuid()]));
    const rows = await listTemplates(ctx.db, { limit: query.limit, archived: query.archived, ...(after ? { beforeId: after[0] } : {}) });
    const page = paginate(rows, query.limit, (t) => [t.id]);
    return { status: 200, body: { items: page.items.map(templateBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "evaluation-templates-get",
  method: "GET",
  path: "/v1/evaluation-templates/{templateId}",
  access: instructorAnywhere,
  summary: "One evaluation template",
  tags: ["evaluations"],
  conditional: "read",
  params: templateParams,
  responses: { 200: { description: "The template", body: templateSchema }, 404: { description: "`EVALUATION_TEMPLATE_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const template = unwrap(await templateById(ctx.db, params.templateId));
    const etag = templateEtag(template);
    if (notModified(request, etag)) return { status: 304, headers: { etag } };
    return { status: 200, body: templateBody(template), headers: { etag } };
  },
});

route({
  name: "evaluation-templates-update",
  method: "PATCH",
  path: "/v1/evaluation-templates/{templateId}",
  access: adminOnly,
  summary: "Change an evaluation template, or archive it (administrators)",
  description:
    "Send the ETag you read as If-Match (412 when it changed meanwhile). Its questions change only while no evaluation uses it (else 409 `EVALUATION_TEMPLATE_IN_USE`: make a new template); title and description always. `archived: true` hides it from new evaluations (templates are never deleted: results compare by them).",
  tags: ["evaluations"],
  conditional: "update",
  params: templateParams,
  body: z
    .object({ title: plain(200).min(1).optional(), description: plain(5000).optional(), questions: questionsSchema.optional(), archived: z.boolean().optional() })
    .refine((b) => Object.values(b).some((v) => v !== undefined), "name at least one field to change"),
  responses: {
    200: { description: "Changed", body: templateSchema },
    404: { description: "`EVALUATION_TEMPLATE_NOT_FOUND`" },
    409: { description: "`EVALUATION_TEMPLATE_IN_USE`" },
  },
  handler: async ({ params, body, request }, ctx) => {
    const version = versionFromIfMatch(request.headers.get("if-match"), templateEtagPattern);
    const template = unwrap(await ctx.transaction((tx) => updateTemplate(ctx.domain(tx), params.templateId, body, version)));
    return { status: 200, body: templateBody(template), headers: { etag: templateEtag(template) } };
  },
});

route({
  name: "evaluation-template-results",
  method: "GET",
  path: "/v1/evaluation-templates/{templateId}/results",
  access: instructorAnywhere,
  summary: "A template's results compared across terms: JSON or CSV",
  description:
    "Each closed evaluation made from the template with at least EVALUATION_MIN_RESPONSES answers, newest first: course, term, closedAt, n and the likert (mean, median, distribution) and choice (counts) figures per question; free text stays with each evaluation's own results. A question fewer than EVALUATION_MIN_RESPONSES answered shows only its n and `withheld: true`. Instructors see only the evaluations of courses they instruct unscoped (no section scope). CSV with format=csv or Accept: text/csv.",
  tags: ["evaluations"],
  params: templateParams,
  query: z.object({ ...pageQuery, format: z.enum(["json", "csv"]).optional() }),
  responses: {
    200: {
      description: "A page of evaluations",
      body: z.object({
        template: z.object({ id: z.uuid(), title: z.string(), questions: z.array(storedQuestionSchema) }),
        items: z.array(z.object({ evaluationId: z.uuid(), courseId: z.uuid(), courseTitle: z.string(), term: z.string(), closedAt: iso, n: z.number().int(), questions: z.array(questionSummarySchema) })),
        nextCursor: z.string().nullable(),
      }),
      otherContent: { "text/csv": z.string().meta({ description: "One row per evaluation, question and scale point or option" }) },
    },
    400: { description: "`INVALID_CURSOR`" },
    404: { description: "`EVALUATION_TEMPLATE_NOT_FOUND`" },
  },
  handler: async ({ params, query, request }, ctx) => {
    const after = decodeCursorAs(query.cursor, z.tuple([z.iso.datetime(), z.uuid()]));
    const result = unwrap(
      await templateResults(ctx.db, params.templateId, ctx.caller, {
        minResponses: ctx.platform.settings.EVALUATION_MIN_RESPONSES,
        limit: query.limit,
        ...(after ? { after: { closedAt: new Date(after[0]), id: after[1] } } : {}),
      }),
    );
    const page = paginate(result.items, query.limit, (t) => [t.closedAt.toISOString(), t.evaluationId]);
    const link = nextLink(request.url, page.nextCursor);
    if (wantsCsv(query.format, request)) {
      return {
        raw: {
          status: 200,
          headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="evaluation-template-${params.templateId}.csv"`, "cache-control": "private, no-store", ...link },
          body: templateResultsCsv(page.items),
        },
      };
    }
    return {
      status: 200,
      body: { template: result.template, items: page.items.map((t) => ({ ...t, closedAt: t.closedAt.toISOString() })), nextCursor: page.nextCursor },
      headers: { ...link, "cache-control": "private, no-store", vary: "Accept" },
    };
  },
});
