import { z } from "zod";
import { eventCatalog } from "../../domain/events/catalog.js";
import { deliveryWithWebhook, findWebhook, listDeliveries, listWebhooks, registerWebhook, replayDelivery, type DeliveryRow, type WebhookRow } from "../../domain/webhooks/webhooks.js";
import { adminOnly } from "../platform/http/access.js";
import { decodeCursor, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { attemptDeliveries, deliveryLeaseSeconds } from "../platform/webhook-dispatch.js";
import { assertPublicDestination, ForbiddenDestination } from "../platform/webhook-sender.js";

const eventTypes = Object.keys(eventCatalog) as [string, ...string[]];
const iso = z.iso.datetime();

const webhookSchema = z
  .object({ id: z.uuid(), url: z.string(), eventTypes: z.array(z.string()), active: z.boolean(), description: z.string(), createdAt: iso })
  .meta({ id: "Webhook" });
const webhookBody = (w: WebhookRow) => ({ id: w.id, url: w.url, eventTypes: w.eventTypes, active: w.active, description: w.description, createdAt: w.createdAt.toISOString() });

const deliverySchema = z
  .object({
    id: z.uuid(),
    webhookId: z.uuid(),
    eventId: z.uuid(),
    eventType: z.string(),
    status: z.enum(["pending", "succeeded", "failed"]),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastLatencyMs: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: iso.nullable(),
    deliveredAt: iso.nullable(),
    createdAt: iso,
  })
  .meta({ id: "WebhookDelivery" });
const deliveryBody = (d: DeliveryRow) => ({
  id: d.id,
  webhookId: d.webhookId,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status,
  attempts: d.attempts,
  lastStatusCode: d.lastStatusCode,
  lastLatencyMs: d.lastLatencyMs,
  lastError: d.lastError,
  nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
  deliveredAt: d.deliveredAt?.toISOString() ?? null,
  createdAt: d.createdAt.toISOString(),
});

route({
  name: "webhooks-list",
  method: "GET",
  path: "/v1/webhooks",
  access: adminOnly,
  summary: "Registered webhook endpoints",
  tags: ["webhooks"],
  query: z.object(pageQuery),
  responses: { 200: { description: "A page of endpoints", body: pageOf(webhookSchema) } },
  handler: async ({ query, request }, ctx) => {
    const after = decodeCursor(query.cursor, 1)?.[0];
    const page = paginate(await listWebhooks(ctx.db, { limit: query.limit, ...(typeof after === "string" ? { afterId: after } : {}) }), query.limit, (w) => [w.id]);
    return { status: 200, body: { items: page.items.map(webhookBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "webhooks-create",
  method: "POST",
  path: "/v1/webhooks",
  access: adminOnly,
  summary: "Register an HTTPS endpoint for events (the signing secret is shown once)",
  description:
    "Each delivery is a POST of the event envelope with `Ringlet-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + '.' + body)>`; verify it and refuse old timestamps. Endpoints on private, loopback or link-local addresses are refused.",
  tags: ["webhooks"],
  idempotent: true,
  body: z.object({
    url: z.url({ protocol: /^https?$/ }).max(2048),
    eventTypes: z.array(z.enum(eventTypes)).max(50).default([]).meta({ description: "Empty: every event type" }),
    description: z.string().max(500).default(""),
  }),
  responses: {
    201: { description: "Registered", body: webhookSchema.extend({ secret: z.string() }) },
    422: { description: "`WEBHOOK_URL_FORBIDDEN`" },
  },
  handler: async ({ body }, ctx) => {
    try {
      await assertPublicDestination(body.url, ctx.platform.settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS);
    } catch (err) {
      throw new ProblemError("WEBHOOK_URL_FORBIDDEN", { detail: err instanceof ForbiddenDestination ? err.message : `cannot resolve the host: ${(err as Error).message}` });
    }
    const hook = await ctx.transaction((tx) => registerWebhook(ctx.domain(tx), body));
    return { status: 201, body: { ...webhookBody(hook), secret: hook.secret }, headers: { "cache-control": "no-store" } };
  },
});

const webhookParams = z.object({ webhookId: z.uuid() });

route({
  name: "webhooks-deliveries-list",
  method: "GET",
  path: "/v1/webhooks/{webhookId}/deliveries",
  access: adminOnly,
  summary: "An endpoint's delivery log, newest first: status, attempts, last answer and latency",
  tags: ["webhooks"],
  params: webhookParams,
  query: z.object(pageQuery),
  responses: { 200: { description: "A page of deliveries", body: pageOf(deliverySchema) }, 404: { description: "`WEBHOOK_NOT_FOUND`" } },
  handler: async ({ params, query, request }, ctx) => {
    if (!(await findWebhook(ctx.db, params.webhookId))) throw new ProblemError("WEBHOOK_NOT_FOUND");
    const before = decodeCursor(query.cursor, 1)?.[0];
    const rows = await listDeliveries(ctx.db, { webhookId: params.webhookId, limit: query.limit, ...(typeof before === "string" ? { beforeId: before } : {}) });
    const page = paginate(rows, query.limit, (d) => [d.id]);
    return { status: 200, body: { items: page.items.map(deliveryBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "webhooks-deliveries-replay",
  method: "POST",
  path: "/v1/webhooks/{webhookId}/deliveries/{deliveryId}/replay",
  access: adminOnly,
  summary: "Send a delivery again now",
  tags: ["webhooks"],
  params: z.object({ webhookId: z.uuid(), deliveryId: z.uuid() }),
  responses: { 200: { description: "The delivery after the attempt", body: deliverySchema }, 404: { description: "`DELIVERY_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => replayDelivery(ctx.domain(tx), params.webhookId, params.deliveryId, deliveryLeaseSeconds(ctx.platform))));
    await attemptDeliveries(ctx.platform, [params.deliveryId], ctx.log);
    const found = await deliveryWithWebhook(ctx.db, params.deliveryId);
    if (!found) throw new ProblemError("DELIVERY_NOT_FOUND");
    return { status: 200, body: deliveryBody(found.delivery) };
  },
});
