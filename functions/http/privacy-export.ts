import * as df from "durable-functions";
import { z } from "zod";
import { type DataExportView, dataExportSeenBy, discardExportFiles, type ExportRuns, myDataExports, requestDataExport, stalledDataExport } from "../../domain/privacy/data-exports.js";
import { dataExportStatuses } from "../../domain/db/schema/index.js";
import { instanceStatus } from "../platform/durable-status.js";
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
    downloadUrl: z.string().optional().meta({ description: "A fresh short-lived link to the zip, while the export is ready (to its owner only)" }),
    downloadUrlExpiresAt: iso.optional(),
  })
  .meta({ id: "DataExport" });

// The Durable instance of an export is at work unless it is missing or has ended.
const ENDED = new Set<string>([df.OrchestrationRuntimeStatus.Completed, df.OrchestrationRuntimeStatus.Failed, df.OrchestrationRuntimeStatus.Terminated]);
const exportRuns = (client: df.DurableClient): ExportRuns => ({
  async isRunning(exportId) {
    // A failure to read the status (other than a missing instance) is no proof the export stalled: it is left alone.
    const status = await instanceStatus(client, dataExportInstanceId(exportId)).catch(() => "unknown" as const);
    if (status === "unknown") return true;
    return status !== null && status.runtimeStatus !== undefined && !ENDED.has(status.runtimeStatus);
  },
});

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
    409: { description: "`EXPORT_IN_PROGRESS` (the problem's `exportId` names it). An earlier export whose orchestration ended or never started fails instead, and this request is accepted" },
  },
  handler: async (_input, ctx) => {
    const client = df.getClient(ctx.invocation);
    // Whether the export at work stalled is asked of Durable before the transaction, never while it holds a connection.
    const stalledId = await stalledDataExport(ctx.db, ctx.caller.userId, exportRuns(client), ctx.now());
    const requested = unwrap(await ctx.transaction((tx) => requestDataExport(ctx.domain(tx), ctx.caller.userId, stalledId)));
    ctx.afterCommit(async () => {
      const input: DataExportInput = { exportId: requested.id, traceparent: ctx.trace.traceparent };
      await client.startNew("dataExport", { instanceId: dataExportInstanceId(requested.id), input });
      // The stalled export's staged parts (and any partial archive) hold the person's data: they go with it.
      if (requested.replaced) await discardExportFiles(ctx.platform.files, requested.replaced.userId, requested.replaced.exportId);
    });
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
  summary: "A data export's status and progress, with a fresh download link once it is ready (yours; admins may read any one's status, without the link)",
  tags: ["me"],
  params: z.object({ exportId: z.uuid() }),
  responses: { 200: { description: "The export", body: exportSchema }, 404: { description: "`DATA_EXPORT_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const now = ctx.now();
    const found = unwrap(await dataExportSeenBy(ctx.db, params.exportId, { userId: ctx.caller.userId, isAdmin: ctx.caller.isAdmin }, now));
    const s = ctx.platform.settings;
    // The link is the owner's alone: an admin checking on an export sees its status, never the person's data.
    const link =
      found.blobName && found.expiresAt && found.userId === ctx.caller.userId
        ? await ctx.platform.files.downloadUrl(found.blobName, Math.min(s.PRIVACY_EXPORT_LINK_TTL_H * 3600, Math.ceil((found.expiresAt.getTime() - now.getTime()) / 1000)), "ringlet-data-export.zip")
        : undefined;
    return { status: 200, body: exportBody(found, link), headers: { "cache-control": "no-store" } };
  },
});
