import { z } from "zod";
import { cancelImport, importCreator, importSeenBy, listImports, requestImport, startImport } from "../../domain/imports/import-requests.js";
import { importReportFor, importView } from "../../domain/imports/import-view.js";
import { sendImportRun } from "../imports/send-import-run.js";
import { instructorAnywhere, owner } from "../platform/http/access.js";
import { decodeCursorAs, encodeCursor, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { importBody, importParams, importRequestBody, importSchema, importStartBody } from "./schemas/import.js";

const iso = z.iso.datetime();

// The import's importer (or an administrator): a missing import is not found.
const importer = owner({ describe: "the import's importer", resolve: (params, db) => importCreator(db, params.importId as string) });

const listCursor = z.tuple([z.uuid()]);
const reportCursor = z.tuple([z.string().min(1).max(200), z.int().min(0).max(2_147_483_647)]);

const statusUrl = (id: string) => `/api/v1/imports/${id}`;

route({
  name: "imports-create",
  method: "POST",
  path: "/v1/imports",
  access: instructorAnywhere,
  summary: "Ask for a URL to upload a file to import (users, enrollments, sections, or a OneRoster bundle)",
  description:
    "Administrators import anything; an instructor imports their own course's roster (give `courseId`). Upload the file's exact bytes with the returned URL and headers (they go straight to storage), then start the import.",
  tags: ["imports"],
  body: importRequestBody,
  responses: {
    201: {
      description: "The import, awaiting its upload, and where to upload",
      body: importSchema.extend({
        upload: z.object({
          url: z.string().meta({ description: "Short-lived, create-only URL: PUT the file's bytes here" }),
          method: z.literal("PUT"),
          headers: z.record(z.string(), z.string()).meta({ description: "Send these headers with the upload" }),
          expiresAt: iso,
        }),
      }),
    },
    403: { description: "`IMPORT_FORBIDDEN`: not an instructor of `courseId`, or no `courseId` for a non-administrator" },
    404: { description: "`COURSE_NOT_FOUND`" },
    413: { description: "`IMPORT_TOO_LARGE`" },
  },
  handler: async ({ body }, ctx) => {
    const s = ctx.platform.settings;
    const created = unwrap(
      await ctx.transaction((tx) =>
        requestImport(ctx.domain(tx), ctx.platform.files, ctx.caller, { fileName: body.fileName, contentType: body.contentType, sizeBytes: body.sizeBytes, courseId: body.courseId ?? null }, s.IMPORT_MAX_BYTES),
      ),
    );
    return {
      status: 201,
      body: {
        ...importBody(importView(created.import, ctx.now())),
        upload: { url: created.upload.url, method: created.upload.method, headers: created.upload.headers, expiresAt: created.upload.expiresAt.toISOString() },
      },
      headers: { location: statusUrl(created.import.id), "cache-control": "no-store" },
    };
  },
});

route({
  name: "imports-start",
  method: "POST",
  path: "/v1/imports/{importId}/start",
  access: importer,
  summary: "Start importing the uploaded file as a kind, for real or as a dry run",
  description:
    "The file must be uploaded as declared. Course imports take `enrollments` or `sections`; `users` and `oneroster` are for administrators. A completed dry run may be started again (for real: its outcomes are replaced), and so may a failed or cancelled real run (it continues from the rows already applied, which are not applied again). Poll the import for progress.",
  tags: ["imports"],
  params: importParams,
  body: importStartBody,
  responses: {
    202: { description: "Queued", body: importSchema },
    403: { description: "`IMPORT_FORBIDDEN`: this importer may not import this kind" },
    404: { description: "`IMPORT_NOT_FOUND`" },
    409: { description: "`IMPORT_ALREADY_STARTED`, `IMPORT_FILE_NOT_UPLOADED`" },
    422: { description: "`IMPORT_KIND_UNAVAILABLE`, `IMPORT_WRONG_FILE_TYPE` (oneroster takes a zip, the others a CSV), `IMPORT_FILE_MISMATCH` (size: the upload is deleted and the import fails with the reason; ask for a new upload URL)" },
  },
  handler: async ({ params, body }, ctx) => {
    const started = unwrap(await ctx.transaction((tx) => startImport(ctx.domain(tx), ctx.platform.files, params.importId, ctx.caller, body)));
    // After the commit; a send that fails leaves the run queued, and the imports-resend timer sends it again.
    ctx.afterCommit(() => sendImportRun(ctx.platform, { importId: params.importId, run: started.run, traceparent: ctx.trace.traceparent }));
    return { status: 202, body: importBody(importView(started.import, ctx.now())), headers: { location: statusUrl(params.importId), "cache-control": "no-store" } };
  },
});

route({
  name: "imports-get",
  method: "GET",
  path: "/v1/imports/{importId}",
  access: importer,
  summary: "An import's status and progress: rows read, applied, failed, percent, time left, counts per entity, warnings",
  tags: ["imports"],
  params: importParams,
  responses: { 200: { description: "The import", body: importSchema }, 404: { description: "`IMPORT_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const found = unwrap(await importSeenBy(ctx.db, params.importId, ctx.caller));
    return { status: 200, body: importBody(importView(found, ctx.now())), headers: { "cache-control": "no-store" } };
  },
});

route({
  name: "imports-list",
  method: "GET",
  path: "/v1/imports",
  access: instructorAnywhere,
  summary: "Your imports, newest first (an administrator's: everyone's)",
  tags: ["imports"],
  query: z.object(pageQuery),
  responses: { 200: { description: "A page of imports", body: pageOf(importSchema) } },
  handler: async ({ query, request }, ctx) => {
    const before = decodeCursorAs(query.cursor, listCursor)?.[0];
    const rows = await listImports(ctx.db, ctx.caller, { limit: query.limit, ...(before ? { beforeId: before } : {}) });
    const page = paginate(rows, query.limit, (r) => [r.id]);
    const now = ctx.now();
    return { status: 200, body: { items: page.items.map((r) => importBody(importView(r, now))), nextCursor: page.nextCursor }, headers: { ...nextLink(request.url, page.nextCursor), "cache-control": "no-store" } };
  },
});

route({
  name: "imports-report",
  method: "GET",
  path: "/v1/imports/{importId}/report.csv",
  access: importer,
  summary: "The import's report as CSV: every failed or skipped row with its line and reason (rows=all: every row and what it came to)",
  description:
    "Columns `file,line,entity,result,reason`, then the kind's columns with the row's cells (formula-looking cells are neutralised with a leading `'`). With `rows=all`, a row the run never reached reads `not-applied`: after a cancelled or failed real run, exactly the other rows were applied. Long reports come in pages of 20,000 rows, each a CSV with its header; `Link: rel=next` names the next.",
  tags: ["imports"],
  params: importParams,
  query: z.object({
    rows: z.enum(["failed", "all"]).default("failed"),
    cursor: z.string().max(1024).optional().meta({ description: "From the previous page's `Link: rel=next`" }),
  }),
  responses: {
    200: { description: "The report", body: z.string(), contentType: "text/csv" },
    404: { description: "`IMPORT_NOT_FOUND`" },
  },
  handler: async ({ params, query, request }, ctx) => {
    const position = decodeCursorAs(query.cursor, reportCursor) ?? null;
    const after = position ? { file: position[0], line: position[1] } : null;
    const { import: found, page } = unwrap(await importReportFor(ctx.db, params.importId, ctx.caller, { all: query.rows === "all", after }));
    return {
      raw: {
        status: 200,
        headers: {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="import-${found.id}-report.csv"`,
          "cache-control": "no-store",
          ...nextLink(request.url, page.next ? encodeCursor([page.next.file, page.next.line]) : null),
        },
        body: page.csv,
      },
    };
  },
});

route({
  name: "imports-cancel",
  method: "POST",
  path: "/v1/imports/{importId}/cancel",
  access: importer,
  summary: "Stop a running import between batches; rows applied so far stay applied (the report with rows=all says which)",
  tags: ["imports"],
  params: importParams,
  responses: {
    202: { description: "Cancel asked for: the import ends as cancelled before its next batch", body: importSchema },
    404: { description: "`IMPORT_NOT_FOUND`" },
    409: { description: "`IMPORT_NOT_RUNNING`: not started, or ended already" },
  },
  handler: async ({ params }, ctx) => {
    const cancelled = unwrap(await ctx.transaction((tx) => cancelImport(ctx.domain(tx), params.importId, ctx.caller)));
    return { status: 202, body: importBody(importView(cancelled, ctx.now())), headers: { "cache-control": "no-store" } };
  },
});
