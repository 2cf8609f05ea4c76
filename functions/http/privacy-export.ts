import * as df from "durable-functions";
import { z } from "zod";
import { type DataExportView, dataExportSeenBy, myDataExports, requestDataExport } from "../../domain/privacy/data-exports.js";
import { dataExportStatuses } from "../../domain/db/schema/index.js";
import { authenticated } from "../platform/http/access.js";
import { decodeCursor, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { type DataExportInput, dataExportInstanceId } from "../privacy/data-export.js";

const iso = z.iso.datetime();

const exportSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(dataExportStatuses),
    progress: z.object({
      step: z.string().meta({ description: "The step under way (a part of your data, `archive`, `notify`), or `done`" }),
      stepsDone: z.number().int(),
      stepsTotal: z.number().int(),
      percent: z.number().int().min(0).max(100),
    }),
    requestedAt: iso,
    startedAt: iso.nullable(),
    completedAt: iso.nullable(),
    expiresAt: iso.nullable().meta({ description: "When the archive is deleted (ready exports)" }),
    downloadUrl: z.string().optional().meta({ description: "A fresh short-lived link to the zip, while the export is ready" }),
    downloadUrlExpiresAt: iso.optional(),
  })
  .meta({ id: "DataExport" });

const statusUrl = (id: string) => `/api/v1/me/data-export/${id}`;

const exportBody = (e: DataExportView, link?: { url: string; expiresAt: Date }) => ({
  id: e.id,
  status: e.status,
  progress: e.progress,
  requestedAt: e.requestedAt.toISOString(),
  startedAt: e.startedAt?.toISOString() ?? null,
  completedAt: e.completedAt?.toISOString() ?? null,
  expiresAt: e.expiresAt?.toISOString() ?? null,
  ...(link ? { downloadUrl: link.url, downloadUrlExpiresAt: link.expiresAt.toISOString() } : {}),
});

route({
  name: "me-data-export-request",
  method: "POST",
  path: "/v1/me/data-export",
  access: authenticated,
  summary: "Ask for a copy of everything Ringlet holds about you; a link to it is emailed when it is ready",
  tags: ["me"],
  extraInputs: [df.input.durableClient()],
  responses: {
    202: { description: "Accepted: poll `statusUrl` for progress", body: z.object({ id: z.uuid(), status: z.enum(dataExportStatuses), statusUrl: z.string() }) },
    409: { description: "`EXPORT_IN_PROGRESS` (the problem's `exportId` names it; `stalled`: its start had been lost, and it is started again)" },
  },
  handler: async (_input, ctx) => {
    const outcome = await ctx.transaction((tx) => requestDataExport(ctx.domain(tx), ctx.caller.userId));
    const start = async (exportId: string) => {
      const input: DataExportInput = { exportId, traceparent: ctx.trace.traceparent };
      await df.getClient(ctx.invocation).startNew("dataExport", { instanceId: dataExportInstanceId(exportId), input });
    };
    if (!outcome.ok && outcome.error.extensions?.stalled === true) {
      const exportId = outcome.error.extensions.exportId as string;
      // Only when no instance exists: a running one is never started twice.
      const existing = await df.getClient(ctx.invocation).getStatus(dataExportInstanceId(exportId)).catch(() => undefined);
      if (!existing?.runtimeStatus) await start(exportId).catch((err: unknown) => ctx.log.warn("stalled data export not restarted", { exportId, err }));
    }
    const requested = unwrap(outcome);
    ctx.afterCommit(() => start(requested.id));
    return {
      status: 202,
      body: { id: requested.id, status: requested.status, statusUrl: statusUrl(requested.id) },
      headers: { location: statusUrl(requested.id), "cache-control": "no-store" },
    };
  },
});

route({
  name: "me-data-export-list",
  method: "GET",
  path: "/v1/me/data-export",
  access: authenticated,
  summary: "Your data exports, newest first",
  tags: ["me"],
  query: z.object(pageQuery),
  responses: { 200: { description: "A page of data exports", body: pageOf(exportSchema) } },
  handler: async ({ query, request }, ctx) => {
    const before = decodeCursor(query.cursor, 1)?.[0];
    const rows = await myDataExports(ctx.db, ctx.caller.userId, { limit: query.limit, ...(typeof before === "string" ? { beforeId: before } : {}) }, ctx.now());
    const page = paginate(rows, query.limit, (e) => [e.id]);
    return { status: 200, body: { items: page.items.map((e) => exportBody(e)), nextCursor: page.nextCursor }, headers: { ...nextLink(request.url, page.nextCursor), "cache-control": "no-store" } };
  },
});

route({
  name: "me-data-export-get",
  method: "GET",
  path: "/v1/me/data-export/{exportId}",
  access: authenticated,
  summary: "A data export's status and progress, with a fresh download link once it is ready (yours; admins may read any)",
  tags: ["me"],
  params: z.object({ exportId: z.uuid() }),
  responses: { 200: { description: "The export", body: exportSchema }, 404: { description: "`DATA_EXPORT_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const now = ctx.now();
    const found = unwrap(await dataExportSeenBy(ctx.db, params.exportId, { userId: ctx.caller.userId, isAdmin: ctx.caller.isAdmin }, now));
    const s = ctx.platform.settings;
    const link =
      found.blobName && found.expiresAt
        ? await ctx.platform.files.downloadUrl(found.blobName, Math.min(s.PRIVACY_EXPORT_LINK_TTL_H * 3600, Math.ceil((found.expiresAt.getTime() - now.getTime()) / 1000)), "ringlet-data-export.zip")
        : undefined;
    return { status: 200, body: exportBody(found, link), headers: { "cache-control": "no-store" } };
  },
});
