import { z } from "zod";
import { type PushSubscriptionView, pushSubscriptionsOf, registerPushSubscription, removePushSubscription } from "../../domain/notifications/push-subscriptions.js";
import { authenticated, publicAccess } from "../platform/http/access.js";
import { ProblemError } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { pushEnabled, pushEndpointRefusal } from "../platform/push-sender.js";

// base64url of exactly `bytes` bytes (browsers send it unpadded; padding is tolerated).
const base64url = (bytes: number, what: string) =>
  z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, "must be base64url")
    .refine((v) => Buffer.from(v, "base64url").length === bytes, `must be ${what} (${bytes} bytes)`);

const registrationSchema = z
  .object({
    // The URL's policy (https, public) is checked by the handler: a refusal is 422 PUSH_ENDPOINT_NOT_ALLOWED.
    endpoint: z.string().max(2048).meta({ description: "The push service URL the browser gave (https)" }),
    keys: z.object({
      p256dh: base64url(65, "an uncompressed P-256 public key").refine((v) => Buffer.from(v, "base64url")[0] === 0x04, "must be an uncompressed P-256 point"),
      auth: base64url(16, "the 16-byte authentication secret"),
    }),
    expirationTime: z.number().nullable().optional(),
  })
  .meta({ id: "PushSubscriptionRegistration", description: "A browser's PushSubscription.toJSON()" });

const subscriptionSchema = z
  .object({ id: z.uuid(), origin: z.string(), userAgent: z.string().nullable(), createdAt: z.iso.datetime(), lastSuccessAt: z.iso.datetime().nullable() })
  .meta({ id: "PushSubscription" });

const body = (s: PushSubscriptionView) => ({ id: s.id, origin: s.origin, userAgent: s.userAgent, createdAt: s.createdAt.toISOString(), lastSuccessAt: s.lastSuccessAt?.toISOString() ?? null });

route({
  name: "push-public-key-get",
  method: "GET",
  path: "/v1/push/public-key",
  access: publicAccess,
  summary: "The VAPID public key browsers subscribe with (applicationServerKey)",
  tags: ["me"],
  responses: { 200: { description: "The key, base64url", body: z.object({ publicKey: z.string() }) }, 503: { description: "`PUSH_NOT_CONFIGURED`" } },
  handler: async (_input, ctx) => {
    const s = ctx.platform.settings;
    if (!pushEnabled(s)) throw new ProblemError("PUSH_NOT_CONFIGURED");
    return { status: 200, body: { publicKey: s.WEB_PUSH_VAPID_PUBLIC_KEY as string } };
  },
});

route({
  name: "me-push-subscriptions-create",
  method: "POST",
  path: "/v1/me/push-subscriptions",
  access: authenticated,
  summary: "Register this browser for push notifications",
  description: `The browser's PushSubscription JSON. The endpoint must be a public https URL. Registering a known endpoint again moves it to you with its new keys (200); you keep at most 10 browsers, the oldest going first.`,
  tags: ["me"],
  body: registrationSchema,
  responses: {
    201: { description: "Registered", body: subscriptionSchema },
    200: { description: "Registered again", body: subscriptionSchema },
    422: { description: "`PUSH_ENDPOINT_NOT_ALLOWED`: not https, a private, loopback or unresolvable host" },
    503: { description: "`PUSH_NOT_CONFIGURED`" },
  },
  handler: async ({ body: input, request }, ctx) => {
    const s = ctx.platform.settings;
    if (!pushEnabled(s)) throw new ProblemError("PUSH_NOT_CONFIGURED");
    const refusal = await pushEndpointRefusal(s, input.endpoint);
    if (refusal) throw new ProblemError("PUSH_ENDPOINT_NOT_ALLOWED", { detail: refusal });
    const userAgent = request.headers.get("user-agent")?.replace(/\0/g, "").slice(0, 300) ?? null;
    const { subscription, created } = await ctx.transaction((tx) =>
      registerPushSubscription(ctx.domain(tx), ctx.caller.userId, { endpoint: input.endpoint, p256dh: input.keys.p256dh, auth: input.keys.auth, userAgent }),
    );
    return { status: created ? 201 : 200, body: body(subscription) };
  },
});

route({
  name: "me-push-subscriptions-list",
  method: "GET",
  path: "/v1/me/push-subscriptions",
  access: authenticated,
  summary: "Your browsers registered for push notifications",
  tags: ["me"],
  responses: { 200: { description: "Oldest first", body: z.object({ items: z.array(subscriptionSchema) }) } },
  handler: async (_input, ctx) => ({ status: 200, body: { items: (await pushSubscriptionsOf(ctx.db, ctx.caller.userId)).map(body) } }),
});

route({
  name: "me-push-subscriptions-delete",
  method: "DELETE",
  path: "/v1/me/push-subscriptions/{subscriptionId}",
  access: authenticated,
  summary: "Stop push notifications to one of your browsers",
  tags: ["me"],
  params: z.object({ subscriptionId: z.uuid() }),
  responses: { 204: { description: "Removed" }, 404: { description: "`PUSH_SUBSCRIPTION_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    if (!(await ctx.transaction((tx) => removePushSubscription(ctx.domain(tx), ctx.caller.userId, params.subscriptionId)))) throw new ProblemError("PUSH_SUBSCRIPTION_NOT_FOUND");
    return { status: 204 };
  },
});
