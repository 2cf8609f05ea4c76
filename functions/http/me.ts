import { z } from "zod";
import { changePassword, getUser, updateProfile } from "../../domain/identity/manage-users.js";
import { MAX_PASSWORD_LENGTH, passwordSchema } from "../../domain/identity/password-policy.js";
import { authenticated } from "../platform/http/access.js";
import { assertIfMatch, etagOf, notModified } from "../platform/http/etag.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { displayNameSchema, userBody, userSchema } from "./schemas/user.js";

const userEtag = (u: { id: string; updatedAt: Date; roles: string[]; courseRoles: unknown[] }) => etagOf(u);

route({
  name: "me-get",
  method: "GET",
  path: "/v1/me",
  access: authenticated,
  summary: "The signed-in user, with global and course roles",
  tags: ["me"],
  conditional: "read",
  responses: { 200: { description: "You", body: userSchema }, 404: { description: "`USER_NOT_FOUND`" } },
  handler: async ({ request }, ctx) => {
    const me = unwrap(await getUser(ctx.db, ctx.caller.userId));
    const etag = userEtag(me);
    if (notModified(request, etag)) return { status: 304, headers: { etag } };
    // No cache-control here: the edge marks every answer to a signed-in caller no-store (security-headers.ts).
    return { status: 200, body: userBody(me), headers: { etag } };
  },
});

route({
  name: "me-update",
  method: "PATCH",
  path: "/v1/me",
  access: authenticated,
  summary: "Change your profile",
  tags: ["me"],
  conditional: "update",
  body: z.object({
    displayName: displayNameSchema.optional(),
    locale: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "a BCP 47 language tag such as en or es").optional().meta({ description: "The language of your emails" }),
  }),
  responses: { 200: { description: "Updated", body: userSchema }, 404: { description: "`USER_NOT_FOUND`" } },
  handler: async ({ body, request }, ctx) => {
    const updated = unwrap(await ctx.transaction((tx) => updateProfile(ctx.domain(tx), ctx.caller.userId, body, (current) => assertIfMatch(request, userEtag(current)))));
    return { status: 200, body: userBody(updated), headers: { etag: userEtag(updated) } };
  },
});

route({
  name: "me-password-change",
  method: "POST",
  path: "/v1/me/password",
  access: authenticated,
  summary: "Change your password; every other session ends",
  tags: ["me"],
  body: z.object({ currentPassword: z.string().min(1).max(MAX_PASSWORD_LENGTH), newPassword: passwordSchema }),
  responses: { 204: { description: "Changed" }, 403: { description: "`CURRENT_PASSWORD_INCORRECT`" }, 404: { description: "`USER_NOT_FOUND`" } },
  handler: async ({ body }, ctx) => {
    const p = ctx.caller;
    unwrap(
      await changePassword(
        ctx.domain(),
        { userId: p.userId, currentPassword: body.currentPassword, newPassword: body.newPassword, ...(p.sessionId ? { keepFamilyId: p.sessionId } : {}) },
        ctx.platform.kdf,
        { appUrl: ctx.platform.settings.PUBLIC_APP_URL },
      ),
    );
    return { status: 204 };
  },
});
