import { z } from "zod";
import { auditActions } from "../../domain/audit/record-audit.js";
import { listAudit } from "../../domain/audit/list-audit.js";
import { adminOnly } from "../platform/http/access.js";
import { decodeCursor, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { route } from "../platform/http/route.js";

const auditEntrySchema = z
  .object({
    id: z.uuid(),
    occurredAt: z.iso.datetime(),
    action: z.string(),
    actorUserId: z.uuid().nullable(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    requestId: z.string().nullable(),
    clientIp: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: "AuditEntry" });

route({
  name: "audit-log-list",
  method: "GET",
  path: "/v1/audit-log",
  access: adminOnly,
  summary: "Security-relevant actions, newest first",
  tags: ["operations"],
  query: z.object({
    ...pageQuery,
    action: z.enum(auditActions).optional(),
    actorUserId: z.uuid().optional(),
    targetId: z.string().max(254).optional(),
    from: z.iso.datetime().optional(),
    to: z.iso.datetime().optional(),
  }),
  responses: { 200: { description: "A page of audit entries", body: pageOf(auditEntrySchema) } },
  handler: async ({ query, request }, ctx) => {
    const after = decodeCursor(query.cursor, 1)?.[0];
    const rows = await listAudit(ctx.db, {
      limit: query.limit,
      ...(query.action ? { action: query.action } : {}),
      ...(query.actorUserId ? { actorUserId: query.actorUserId } : {}),
      ...(query.targetId ? { targetId: query.targetId } : {}),
      ...(query.from ? { from: new Date(query.from) } : {}),
      ...(query.to ? { to: new Date(query.to) } : {}),
      ...(typeof after === "string" ? { afterId: after } : {}),
    });
    const page = paginate(rows, query.limit, (r) => [r.id]);
    return {
      status: 200,
      body: { items: page.items.map((r) => ({ ...r, occurredAt: r.occurredAt.toISOString() })), nextCursor: page.nextCursor },
      headers: nextLink(request.url, page.nextCursor),
    };
  },
});
