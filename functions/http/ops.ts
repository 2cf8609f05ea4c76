import { z } from "zod";
import { outboxBacklog } from "../../domain/outbox/outbox-backlog.js";
import { adminOnly, describeAccess } from "../platform/http/access.js";
import { declaredRoutes } from "../platform/http/route-registry.js";
import type { RelayStatus } from "../platform/outbox-relay.js";
import { route } from "../platform/http/route.js";

const outboxStatusSchema = z
  .object({
    backlog: z.number().int().meta({ description: "Committed events not yet published" }),
    oldestCreatedAt: z.iso.datetime().nullable(),
    oldestAgeSeconds: z.number().nullable(),
    publishPausedUntil: z.iso.datetime().nullable(),
    lastPublishError: z.string().nullable(),
    lastPublishedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: "OutboxStatus" });

route({
  name: "ops-outbox-get",
  method: "GET",
  path: "/v1/ops/outbox",
  access: adminOnly,
  summary: "Outbox backlog: how many events wait to be published and for how long",
  tags: ["operations"],
  responses: { 200: { description: "Backlog", body: outboxStatusSchema } },
  handler: async (_input, ctx) => {
    const backlog = await outboxBacklog(ctx.db);
    const oldest = backlog.oldestCreatedAt;
    return {
      status: 200,
      body: {
        backlog: backlog.size,
        oldestCreatedAt: oldest?.toISOString() ?? null,
        oldestAgeSeconds: oldest ? Math.max(0, (ctx.now().getTime() - oldest.getTime()) / 1000) : null,
        ...relayStatus(ctx.platform.relay.status()),
      },
      headers: { "cache-control": "no-store" },
    };
  },
});

const relayStatus = (r: RelayStatus) => ({
  publishPausedUntil: r.pausedUntil?.toISOString() ?? null,
  lastPublishError: r.lastError,
  lastPublishedAt: r.lastPublishedAt?.toISOString() ?? null,
});

const routeListingSchema = z.object({
  items: z.array(
    z.object({ name: z.string(), method: z.string(), path: z.string(), access: z.unknown(), idempotent: z.boolean(), hidden: z.boolean() }),
  ),
});

route({
  name: "ops-routes-list",
  method: "GET",
  path: "/v1/ops/routes",
  access: adminOnly,
  summary: "Every HTTP route with the access policy it declares",
  tags: ["operations"],
  responses: { 200: { description: "The routes", body: routeListingSchema } },
  handler: async () => ({
    status: 200,
    body: {
      items: declaredRoutes().map((r) => ({
        name: r.name,
        method: r.method,
        path: `/api${r.path}`,
        access: describeAccess(r.access),
        idempotent: Boolean(r.idempotent),
        hidden: Boolean(r.hidden),
      })),
    },
  }),
});
