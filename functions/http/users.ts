import { z } from "zod";
import { deactivateUser, reactivateUser } from "../../domain/identity/account-lifecycle.js";
import { getUser, listUsers, revokeAllSessions, roleFilters, setGlobalRoles } from "../../domain/identity/manage-users.js";
import { globalRoles } from "../../domain/identity/user-view.js";
import { adminOnly, owner } from "../platform/http/access.js";
import { etagOf, notModified } from "../platform/http/etag.js";
import { decodeCursor, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { userBody, userSchema } from "./schemas/user.js";

const userParams = z.object({ userId: z.uuid() });

route({
  name: "users-list",
  method: "GET",
  path: "/v1/users",
  access: adminOnly,
  summary: "List users, filtered by email or role",
  tags: ["users"],
  query: z.object({
    ...pageQuery,
    email: z.string().trim().min(1).max(254).optional().meta({ description: "Part of the email address" }),
    role: z.enum(roleFilters).optional(),
    status: z.enum(["active", "deactivated"]).optional().meta({ description: "Active accounts, or those an admin deactivated" }),
  }),
  responses: { 200: { description: "A page of users", body: pageOf(userSchema) } },
  handler: async ({ query, request }, ctx) => {
    const after = decodeCursor(query.cursor, 1)?.[0];
    const rows = await listUsers(ctx.db, {
      limit: query.limit,
      ...(query.email ? { email: query.email } : {}),
      ...(query.role ? { role: query.role } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(typeof after === "string" ? { afterId: after } : {}),
    });
    const page = paginate(rows, query.limit, (u) => [u.id]);
    return { status: 200, body: { items: page.items.map(userBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "users-get",
  method: "GET",
  path: "/v1/users/{userId}",
  access: owner(),
  summary: "One user (yourself, or anyone for admins)",
  tags: ["users"],
  conditional: "read",
  params: userParams,
  responses: { 200: { description: "The user", body: userSchema }, 404: { description: "`USER_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const user = unwrap(await getUser(ctx.db, params.userId));
    const etag = etagOf(user);
    if (notModified(request, etag)) return { status: 304, headers: { etag } };
    return { status: 200, body: userBody(user), headers: { etag } };
  },
});

route({
  name: "users-roles-set",
  method: "PUT",
  path: "/v1/users/{userId}/roles",
  access: adminOnly,
  summary: "Set a user's global roles",
  description: "`admin`: everything; `finance`: the bursar (fees, invoices, payments, refunds, the ledger). Course roles (instructor, grader) are set through each course's staff.",
  tags: ["users"],
  params: userParams,
  body: z.object({ roles: z.array(z.enum(globalRoles)).max(globalRoles.length) }),
  responses: {
    200: { description: "The user with the new roles", body: userSchema },
    404: { description: "`USER_NOT_FOUND`" },
    409: { description: "`LAST_ADMIN`" },
  },
  handler: async ({ params, body }, ctx) => {
    const user = unwrap(await ctx.transaction((tx) => setGlobalRoles(ctx.domain(tx), params.userId, body.roles)));
    return { status: 200, body: userBody(user) };
  },
});

route({
  name: "users-sessions-revoke",
  method: "POST",
  path: "/v1/users/{userId}/sessions/revoke",
  access: adminOnly,
  summary: "End every session of a user",
  tags: ["users"],
  params: userParams,
  responses: { 200: { description: "Sessions ended", body: z.object({ revokedSessions: z.number().int() }) }, 404: { description: "`USER_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const result = unwrap(await ctx.transaction((tx) => revokeAllSessions(ctx.domain(tx), params.userId)));
    return { status: 200, body: result };
  },
});

const lifecycleSchema = z.object({
  user: userSchema,
  changed: z.boolean().meta({ description: "False when the account already was in that state: nothing changed" }),
  revokedSessions: z.number().int(),
});

route({
  name: "users-deactivate",
  method: "POST",
  path: "/v1/users/{userId}/deactivate",
  access: adminOnly,
  summary: "Deactivate an account: every session ends now, sign-in is refused, every record stays",
  description:
    "Idempotent: deactivating an account that already is answers 200 with `changed: false`. A learner stays in " +
    "gradebooks, marked inactive. The reason is kept in the audit log. An account disabled by a scheduled erasure is " +
    "taken over (`changed: true`): cancelling the erasure then leaves it deactivated.",
  tags: ["users"],
  params: userParams,
  body: z.object({ reason: z.string().trim().max(500).optional() }).optional(),
  responses: {
    200: { description: "The deactivated account", body: lifecycleSchema },
    404: { description: "`USER_NOT_FOUND`" },
    409: { description: "`CANNOT_DEACTIVATE_SELF`, `LAST_ADMIN`" },
  },
  handler: async ({ params, body }, ctx) => {
    const input = { userId: params.userId, ...(body?.reason ? { reason: body.reason } : {}) };
    const result = unwrap(await ctx.transaction((tx) => deactivateUser(ctx.domain(tx), input)));
    return { status: 200, body: { ...result, user: userBody(result.user) } };
  },
});

route({
  name: "users-reactivate",
  method: "POST",
  path: "/v1/users/{userId}/reactivate",
  access: adminOnly,
  summary: "Reactivate a deactivated account (the user signs in again)",
  description:
    "Idempotent: reactivating an active account answers 200 with `changed: false`. An erased account cannot be " +
    "reactivated; one whose erasure is scheduled is enabled by cancelling the erasure (DELETE /api/v1/users/{userId}/erase).",
  tags: ["users"],
  params: userParams,
  responses: {
    200: { description: "The active account", body: lifecycleSchema },
    404: { description: "`USER_NOT_FOUND`" },
    409: { description: "`USER_ALREADY_ERASED`, `ERASURE_ALREADY_SCHEDULED`" },
  },
  handler: async ({ params }, ctx) => {
    const result = unwrap(await ctx.transaction((tx) => reactivateUser(ctx.domain(tx), params.userId)));
    return { status: 200, body: { ...result, user: userBody(result.user) } };
  },
});
