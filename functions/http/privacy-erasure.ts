import * as df from "durable-functions";
import { z } from "zod";
import { cancelErasure, cancelErasureByToken, type ErasureView, erasureOf, requestErasure } from "../../domain/privacy/erasure-requests.js";
import { owner, publicAccess } from "../platform/http/access.js";
import { unwrap } from "../platform/http/problem.js";
import { route, type RouteContext } from "../platform/http/route.js";
import { ERASURE_CANCELLED_EVENT, ERASURE_ORCHESTRATION, erasureInstanceId, type ErasureInput } from "../privacy/erasure.js";
import { erasureKeys } from "../platform/erasure-keys.js";

const userParams = z.object({ userId: z.uuid() });
const iso = z.iso.datetime();

const erasureSchema = z
  .object({
    id: z.uuid(),
    userId: z.uuid(),
    status: z.enum(["scheduled", "cancelled", "completed"]),
    dueAt: iso.meta({ description: "When the erasure happens (happened, for an immediate one)" }),
    requestedAt: iso,
    cancelledAt: iso.nullable(),
    completedAt: iso.nullable(),
  })
  .meta({ id: "Erasure" });

const erasureBody = (e: ErasureView): z.infer<typeof erasureSchema> => ({
  ...e,
  dueAt: e.dueAt.toISOString(),
  requestedAt: e.requestedAt.toISOString(),
  cancelledAt: e.cancelledAt?.toISOString() ?? null,
  completedAt: e.completedAt?.toISOString() ?? null,
});

/** Starts the grace-period timer of one request (its own instance: no earlier request's timer is touched). */
async function startTimer(ctx: RouteContext, input: ErasureInput): Promise<void> {
  await df.getClient(ctx.invocation).startNew(ERASURE_ORCHESTRATION, { instanceId: erasureInstanceId(input.erasureId), input });
}

const raiseCancelled = (ctx: RouteContext, erasureId: string) => async () => {
  await df.getClient(ctx.invocation).raiseEvent(erasureInstanceId(erasureId), ERASURE_CANCELLED_EVENT, { by: ctx.caller?.userId ?? null });
};

route({
  name: "users-erase",
  method: "POST",
  path: "/v1/users/{userId}/erase",
  access: owner(),
  summary: "Erase a user's personal data (right to be forgotten)",
  description:
    "The user themself confirms with `currentPassword` (an account without a password: `confirm` set to its email " +
    "address). The erasure is scheduled after PRIVACY_ERASURE_GRACE_H hours: the account is disabled and signed out " +
    "at once, and an email tells the user when it happens and carries a link that cancels it (POST " +
    "/api/v1/erasure/cancel). An admin may erase at once (`immediate: true`) or schedule it the same way. Grades, " +
    "audit entries and course statistics stay, under a pseudonym.",
  tags: ["privacy"],
  extraInputs: [df.input.durableClient()],
  params: userParams,
  body: z.object({
    currentPassword: z.string().min(1).max(1024).optional(),
    confirm: z.string().max(254).optional().meta({ description: "The account's email address, for an account without a password" }),
    immediate: z.boolean().default(false).meta({ description: "Admins only: erase now, without a grace period" }),
  }),
  responses: {
    200: { description: "Erased at once (admins, `immediate`)", body: erasureSchema },
    202: { description: "Scheduled; the email with the cancellation link is on its way", body: erasureSchema },
    400: { description: "`ERASURE_CONFIRMATION_REQUIRED`" },
    403: { description: "`CURRENT_PASSWORD_INCORRECT`, `IMMEDIATE_ERASURE_ADMIN_ONLY`" },
    404: { description: "`USER_NOT_FOUND`" },
    409: { description: "`CANNOT_ERASE_ADMIN` (demote first), `USER_ALREADY_ERASED`, `ERASURE_ALREADY_SCHEDULED` (with its `dueAt`)" },
  },
  handler: async ({ params, body }, ctx) => {
    const p = ctx.platform;
    // On the pool: the domain checks the password before opening its transaction, and deletes files outside it.
    const result = unwrap(
      await requestErasure(
        ctx.domain(),
        p.files,
        {
          userId: params.userId,
          by: { userId: ctx.caller.userId, isAdmin: ctx.caller.isAdmin },
          ...(body.currentPassword === undefined ? {} : { currentPassword: body.currentPassword }),
          ...(body.confirm === undefined ? {} : { confirm: body.confirm }),
          immediate: body.immediate,
        },
        { graceMs: Math.round(p.settings.PRIVACY_ERASURE_GRACE_H * 3_600_000), kdf: p.kdf, appUrl: p.settings.PUBLIC_APP_URL },
        erasureKeys(p.settings),
      ),
    );
    const erasure = result.erasure;
    if (result.immediate) return { status: 200, body: erasureBody(erasure) };
    ctx.afterCommit(() => startTimer(ctx, { erasureId: erasure.id, dueAt: erasure.dueAt.toISOString() }));
    return { status: 202, body: erasureBody(erasure), headers: { location: `/api/v1/users/${params.userId}/erase` } };
  },
});

route({
  name: "users-erase-get",
  method: "GET",
  path: "/v1/users/{userId}/erase",
  access: owner(),
  summary: "The user's newest erasure request: scheduled, cancelled or completed, and when it is due",
  tags: ["privacy"],
  params: userParams,
  responses: { 200: { description: "The erasure request", body: erasureSchema }, 404: { description: "`USER_NOT_FOUND`, `ERASURE_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const erasure = unwrap(await erasureOf(ctx.db, params.userId));
    return { status: 200, body: erasureBody(erasure) };
  },
});

route({
  name: "users-erase-cancel",
  method: "DELETE",
  path: "/v1/users/{userId}/erase",
  access: owner(),
  summary: "Cancel a scheduled erasure (the user, signed in, or an admin); the account is enabled again",
  tags: ["privacy"],
  extraInputs: [df.input.durableClient()],
  params: userParams,
  responses: { 200: { description: "Cancelled", body: erasureSchema }, 404: { description: "`USER_NOT_FOUND`" }, 409: { description: "`ERASURE_NOT_SCHEDULED`" } },
  handler: async ({ params }, ctx) => {
    const erasure = unwrap(await ctx.transaction((tx) => cancelErasure(ctx.domain(tx), params.userId)));
    ctx.afterCommit(raiseCancelled(ctx, erasure.id));
    return { status: 200, body: erasureBody(erasure) };
  },
});

route({
  name: "erasure-cancel-by-link",
  method: "POST",
  path: "/v1/erasure/cancel",
  access: publicAccess,
  personal: true,
  summary: "Cancel a scheduled erasure with the emailed link's token (no sign-in: the account is disabled meanwhile)",
  tags: ["privacy"],
  extraInputs: [df.input.durableClient()],
  body: z.object({ token: z.string().min(1).max(200) }),
  responses: { 200: { description: "Cancelled; the account works again", body: erasureSchema }, 400: { description: "`TOKEN_INVALID` (unknown, used, or the erasure is over)" } },
  handler: async ({ body }, ctx) => {
    const erasure = unwrap(await ctx.transaction((tx) => cancelErasureByToken(ctx.domain(tx), body.token)));
    ctx.afterCommit(raiseCancelled(ctx, erasure.id));
    return { status: 200, body: erasureBody(erasure) };
  },
});
