import { z } from "zod";
import { deliveryStatuses, webhookDisabledReasons } from "../../domain/db/schema/index.js";
import { eventCatalog } from "../../domain/events/catalog.js";
import { deleteWebhook, updateWebhook } from "../../domain/webhooks/manage-webhook.js";
import { deliveryWithWebhook, findWebhook, listDeliveries, listWebhooks, registerWebhook, replayDelivery, type DeliveryRow, type WebhookRow } from "../../domain/webhooks/webhooks.js";
import { adminOnly } from "../platform/http/access.js";
import { notModified, versionFromIfMatch } from "../platform/http/etag.js";
import { decodeCursor, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { attemptDeliveries, deliveryLeaseSeconds } from "../platform/webhook-dispatch.js";
import { secretSealer } from "../platform/webhook-secrets.js";
import { assertPublicDestination, ForbiddenDestination } from "../platform/webhook-sender.js";

const eventTypes = Object.keys(eventCatalog) as [string, ...string[]];
const iso = z.iso.datetime();

const webhookFields = {
  url: z.url({ protocol: /^https?$/ }).max(2048),
  eventTypes: z.array(z.enum(eventTypes)).max(50).meta({ description: "Empty: every event type" }),
  description: z.string().max(500),
};

const webhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    eventTypes: z.array(z.string()),
    active: z.boolean(),
    description: z.string(),
    consecutiveFailures: z.number().int().meta({ description: "Failed attempts in a row; a success or enabling the endpoint again resets it" }),
    failingSince: iso.nullable().meta({ description: "The first failure of that run" }),
    disabledAt: iso.nullable(),
    disabledReason: z.enum(webhookDisabledReasons).nullable().meta({ description: "`admin`: switched off through PATCH; `failures`: switched off after failing for too long" }),
    createdByUserId: z.uuid().nullable(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: "Webhook" });
const isoOrNull = (d: Date | null) => d?.toISOString() ?? null;
const webhookBody = (w: WebhookRow) => ({
  id: w.id,
  url: w.url,
  eventTypes: w.eventTypes,
  active: w.active,
  description: w.description,
  consecutiveFailures: w.consecutiveFailures,
  failingSince: isoOrNull(w.failingSince),
  disabledAt: isoOrNull(w.disabledAt),
  disabledReason: w.disabledReason,
  createdByUserId: w.createdByUserId,
  createdAt: w.createdAt.toISOString(),
  updatedAt: w.updatedAt.toISOString(),
});

/** The ETag carries the version every admin change bumps (a delivery's outcome does not change it). */
const webhookEtag = (w: WebhookRow) => `"wh${w.version}.f${w.consecutiveFailures}"`;

/** The ETags webhookEtag makes (the version is the first group). */
const webhookEtagPattern = /^"wh(\d+)\.f\d+"$/;

/** https and a public destination, checked when an endpoint is registered and whenever its URL changes. */
async function assertAllowedUrl(url: string, allowPrivate: boolean): Promise<void> {
  try {
    await assertPublicDestination(url, allowPrivate);
  } catch (err) {
    throw new ProblemError("WEBHOOK_URL_FORBIDDEN", { detail: err instanceof ForbiddenDestination ? err.message : `cannot resolve the host: ${(err as Error).message}` });
  }
}

const deliverySchema = z
  .object({
    id: z.uuid(),
    webhookId: z.uuid(),
    eventId: z.uuid(),
    eventType: z.string(),
    status: z.enum(deliveryStatuses).meta({ description: "`cancelled`: the endpoint was disabled or deleted before it got through" }),
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
  summary: "Registered webhook endpoints (deleted ones are left out)",
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
    url: webhookFields.url,
    eventTypes: webhookFields.eventTypes.default([]),
    description: webhookFields.description.default(""),
  }),
  responses: {
    201: { description: "Registered", body: webhookSchema.extend({ secret: z.string().meta({ description: "Shown only here: Ringlet stores it encrypted" }) }) },
    422: { description: "`WEBHOOK_URL_FORBIDDEN`" },
  },
  handler: async ({ body }, ctx) => {
    await assertAllowedUrl(body.url, ctx.platform.settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS);
    const { webhook, secret } = await ctx.transaction((tx) => registerWebhook(ctx.domain(tx), body, secretSealer(ctx.platform.settings)));
    return {
      status: 201,
      body: { ...webhookBody(webhook), secret },
      headers: { "cache-control": "no-store", location: `/api/v1/webhooks/${webhook.id}`, etag: webhookEtag(webhook) },
    };
  },
});

const webhookParams = z.object({ webhookId: z.uuid() });

route({
  name: "webhooks-get",
  method: "GET",
  path: "/v1/webhooks/{webhookId}",
  access: adminOnly,
  summary: "One endpoint, with its failure run and whether (and why) it is disabled",
  tags: ["webhooks"],
  conditional: "read",
  params: webhookParams,
  responses: { 200: { description: "The endpoint", body: webhookSchema }, 304: { description: "Not modified" }, 404: { description: "`WEBHOOK_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const hook = await findWebhook(ctx.db, params.webhookId);
    if (!hook) throw new ProblemError("WEBHOOK_NOT_FOUND");
    const etag = webhookEtag(hook);
    if (notModified(request, etag)) return { status: 304, headers: { etag } };
    return { status: 200, body: webhookBody(hook), headers: { etag, "cache-control": "private, no-cache" } };
  },
});

route({
  name: "webhooks-update",
  method: "PATCH",
  path: "/v1/webhooks/{webhookId}",
  access: adminOnly,
  summary: "Enable or disable an endpoint, or change its events, URL or description",
  description:
    "A new URL is checked as on registration. Disabling cancels the endpoint's pending deliveries; enabling it again (or a new URL) starts its failure run afresh. Send the ETag you read as If-Match: an endpoint changed since then answers 412.",
  tags: ["webhooks"],
  conditional: "update",
  params: webhookParams,
  body: z.object({
    active: z.boolean().optional(),
    url: webhookFields.url.optional(),
    eventTypes: webhookFields.eventTypes.optional(),
    description: webhookFields.description.optional(),
  }),
  responses: {
    200: { description: "Updated", body: webhookSchema },
    404: { description: "`WEBHOOK_NOT_FOUND`" },
    422: { description: "`WEBHOOK_URL_FORBIDDEN`" },
  },
  handler: async ({ params, body, request }, ctx) => {
    const version = versionFromIfMatch(request.headers.get("if-match"), webhookEtagPattern);
    if (body.url !== undefined) await assertAllowedUrl(body.url, ctx.platform.settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS);
    const hook = unwrap(await ctx.transaction((tx) => updateWebhook(ctx.domain(tx), params.webhookId, body, version)));
    return { status: 200, body: webhookBody(hook), headers: { etag: webhookEtag(hook) } };
  },
});

route({
  name: "webhooks-delete",
  method: "DELETE",
  path: "/v1/webhooks/{webhookId}",
  access: adminOnly,
  summary: "Delete an endpoint: it receives nothing more, and its delivery log stays readable",
  tags: ["webhooks"],
  params: webhookParams,
  responses: { 204: { description: "Deleted" }, 404: { description: "`WEBHOOK_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => deleteWebhook(ctx.domain(tx), params.webhookId)));
    return { status: 204 };
  },
});

route({
  name: "webhooks-deliveries-list",
  method: "GET",
  path: "/v1/webhooks/{webhookId}/deliveries",
  access: adminOnly,
  summary: "An endpoint's delivery log, newest first: status, attempts, last answer and latency (deleted endpoints too)",
  tags: ["webhooks"],
  params: webhookParams,
  query: z.object(pageQuery),
  responses: { 200: { description: "A page of deliveries", body: pageOf(deliverySchema) }, 404: { description: "`WEBHOOK_NOT_FOUND`" } },
  handler: async ({ params, query, request }, ctx) => {
    if (!(await findWebhook(ctx.db, params.webhookId, { withDeleted: true }))) throw new ProblemError("WEBHOOK_NOT_FOUND");
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
  summary: "Send a delivery again now (to an active endpoint)",
  tags: ["webhooks"],
  params: z.object({ webhookId: z.uuid(), deliveryId: z.uuid() }),
  responses: {
    200: { description: "The delivery after the attempt", body: deliverySchema },
    404: { description: "`DELIVERY_NOT_FOUND`" },
    409: { description: "`WEBHOOK_INACTIVE`: the endpoint is disabled or deleted" },
  },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => replayDelivery(ctx.domain(tx), params.webhookId, params.deliveryId, deliveryLeaseSeconds(ctx.platform))));
    await attemptDeliveries(ctx.platform, [params.deliveryId], ctx.log);
    const found = await deliveryWithWebhook(ctx.db, params.deliveryId);
    if (!found) throw new ProblemError("DELIVERY_NOT_FOUND");
    return { status: 200, body: deliveryBody(found.delivery) };
  },
});
