import { z } from "zod";
import { outboxBacklog } from "../../domain/outbox/outbox-backlog.js";
import { publicAccess } from "../platform/http/access.js";
import { route } from "../platform/http/route.js";

const outboxStatusSchema = z
  .object({
    backlog: z.number().int().meta({ description: "Committed events not yet published" }),
    oldestCreatedAt: z.iso.datetime().nullable(),
    oldestAgeSeconds: z.number().nullable(),
  })
  .meta({ id: "OutboxStatus" });

route({
  name: "ops-outbox-get",
  method: "GET",
  path: "/v1/ops/outbox",
  // Until the identity work adds the admin policy this is public; it shows counts only, no event content.
  access: publicAccess,
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
      },
      headers: { "cache-control": "no-store" },
    };
  },
});
