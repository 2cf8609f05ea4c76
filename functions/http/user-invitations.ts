import { z } from "zod";
import { acceptAccountInvitation, type AccountInvitation, inviteUser, listAccountInvitations, revokeAccountInvitation } from "../../domain/identity/account-invitations.js";
import { emailSchema } from "../../domain/identity/email.js";
import { passwordSchema } from "../../domain/identity/password-policy.js";
import { accountInvitationOptions } from "../platform/auth/account-links.js";
import { noStore, sessionLifetimes, sessionTokens, tokensSchema } from "../platform/auth/session-tokens.js";
import { adminOnly, publicAccess } from "../platform/http/access.js";
import { decodeCursor, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { accountTokenSchema } from "./account-email.js";
import { displayNameSchema } from "./schemas/user.js";

// Administrators invite people who have no account yet; the emailed link creates it. (Course invitations, which
// enroll an existing user, are in enrollments.ts.)

const accountInvitationSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    displayName: z.string().nullable(),
    invitedByUserId: z.uuid().nullable(),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: "AccountInvitation" });

const invitationBody = (i: AccountInvitation): z.infer<typeof accountInvitationSchema> => ({
  ...i,
  createdAt: i.createdAt.toISOString(),
  expiresAt: i.expiresAt.toISOString(),
});

route({
  name: "users-invitations-create",
  method: "POST",
  path: "/v1/users/invitations",
  access: adminOnly,
  summary: "Invite someone to create an account (the link is emailed)",
  description: "A pending invitation of the same address is replaced: its link stops working.",
  tags: ["users"],
  body: z.object({ email: emailSchema, displayName: displayNameSchema.optional() }),
  responses: { 201: { description: "Invited", body: accountInvitationSchema }, 409: { description: "`EMAIL_TAKEN`" } },
  handler: async ({ body }, ctx) => {
    const invitation = unwrap(await ctx.transaction((tx) => inviteUser(ctx.domain(tx), body, accountInvitationOptions(ctx.platform.settings))));
    return { status: 201, body: invitationBody(invitation) };
  },
});

route({
  name: "users-invitations-list",
  method: "GET",
  path: "/v1/users/invitations",
  access: adminOnly,
  summary: "Pending account invitations (not used, withdrawn or expired), oldest first",
  tags: ["users"],
  query: z.object({ ...pageQuery }),
  responses: { 200: { description: "A page of invitations", body: pageOf(accountInvitationSchema) } },
  handler: async ({ query, request }, ctx) => {
    const after = decodeCursor(query.cursor, 1)?.[0];
    const rows = await listAccountInvitations(ctx.db, { now: ctx.now(), limit: query.limit, ...(typeof after === "string" ? { afterId: after } : {}) });
    const page = paginate(rows, query.limit, (i) => [i.id]);
    return { status: 200, body: { items: page.items.map(invitationBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "users-invitations-delete",
  method: "DELETE",
  path: "/v1/users/invitations/{invitationId}",
  access: adminOnly,
  summary: "Withdraw a pending account invitation (its link stops working)",
  tags: ["users"],
  params: z.object({ invitationId: z.uuid() }),
  responses: { 204: { description: "Withdrawn" }, 404: { description: "`ACCOUNT_INVITATION_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => revokeAccountInvitation(ctx.domain(tx), params.invitationId)));
    return { status: 204 };
  },
});

route({
  name: "auth-invitations-accept",
  method: "POST",
  path: "/v1/auth/invitations/accept",
  access: publicAccess,
  summary: "Create your account from an emailed invitation, choosing its password; you are signed in",
  description: "For a user an import created (it exists without a password), the invitation sets that account's password and confirms its address.",
  tags: ["auth"],
  body: z.object({ token: accountTokenSchema, password: passwordSchema, displayName: displayNameSchema.optional() }),
  responses: {
    201: { description: "The account exists and you are signed in", body: tokensSchema },
    400: { description: "`TOKEN_INVALID` (unknown, forged, replaced or withdrawn), `TOKEN_USED`, `TOKEN_EXPIRED`, or `VALIDATION_FAILED`" },
    409: { description: "`EMAIL_TAKEN`: the address got an account meanwhile (or the account an import created for it has a password already or was deactivated)" },
  },
  handler: async ({ body }, ctx) => {
    const p = ctx.platform;
    // On the pool: the domain refuses a bad token and hashes before it opens its transaction.
    const created = unwrap(await acceptAccountInvitation(ctx.domain(), body, { kdf: p.kdf, refreshTtlSeconds: sessionLifetimes(p.settings).refreshTtlSeconds }));
    return { status: 201, body: await sessionTokens(p, created.userId, created.refresh), headers: { ...noStore, location: `/api/v1/users/${created.userId}` } };
  },
});
