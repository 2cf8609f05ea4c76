import { z } from "zod";
import { MAX_PASSWORD_LENGTH } from "../../domain/identity/password-policy.js";
import {
  confirmEnrollment,
  disableTwoFactor,
  RECOVERY_CODE_COUNT,
  regenerateRecoveryCodes,
  resetTwoFactor,
  startEnrollment,
  twoFactorStatus,
} from "../../domain/identity/two-factor.js";
import { completeTwoFactorSignIn } from "../../domain/identity/two-factor-challenge.js";
import { adminOnly, authenticated, publicAccess } from "../platform/http/access.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { noStore, sessionLifetimes, sessionTokens, tokensSchema } from "../platform/auth/session-tokens.js";
import type { Platform } from "../platform/platform.js";
import { secretSealer } from "../platform/webhook-secrets.js";
import { totpCodeSchema } from "./schemas/two-factor.js";

const currentPassword = z.string().min(1).max(MAX_PASSWORD_LENGTH);
const recoveryCodesSchema = z
  .object({
    recoveryCodes: z.array(z.string()).length(RECOVERY_CODE_COUNT).meta({ description: "Shown this once; each works once. Only their hashes are kept." }),
  })
  .meta({ id: "RecoveryCodes" });
// Deliberately not the sign-in's 401 INVALID_TWO_FACTOR_CODE: here the caller is authenticated, and a 401 would tell
// a client to drop its session and sign in again.
const WRONG_CODE_NOTE = "A wrong code is 403 `TWO_FACTOR_CODE_INCORRECT` (the caller stays signed in; sign-in's second step answers 401).";
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// TOTP secrets are sealed with the webhook secrets' key ring (WEBHOOK_SECRET_KEYS), bound to "two-factor:<user id>".
const deps = (p: Platform) => ({ sealer: secretSealer(p.settings), throttle: p.loginThrottle });

route({
  name: "me-two-factor-get",
  method: "GET",
  path: "/v1/me/two-factor",
  access: authenticated,
  summary: "Your two-factor sign-in: on or off, and how many recovery codes are left",
  tags: ["me"],
  responses: {
    200: {
      description: "The state",
      body: z.object({
        enabled: z.boolean(),
        pending: z.boolean().meta({ description: "An enrollment waits for its first code" }),
        enabledAt: z.iso.datetime().nullable(),
        remainingRecoveryCodes: z.number().int(),
      }),
    },
  },
  handler: async (_input, ctx) => {
    const status = await twoFactorStatus(ctx.db, ctx.caller.userId);
    return { status: 200, body: { ...status, enabledAt: status.enabledAt?.toISOString() ?? null }, headers: noStore };
  },
});

route({
  name: "me-two-factor-enroll",
  method: "POST",
  path: "/v1/me/two-factor",
  access: authenticated,
  summary: "Start two-factor enrollment: a new authenticator secret, on once a first code confirms it",
  description:
    "Asks for the current password again. Starting again replaces a secret that was not confirmed yet. Accounts " +
    "that sign in through an identity provider use its second factor instead (409 `TWO_FACTOR_NOT_AVAILABLE`).",
  tags: ["me"],
  body: z.object({ currentPassword }),
  responses: {
    201: {
      description: "Scan `otpauthUri` (as a QR code) or type `secret` into an authenticator app, then confirm with a code",
      body: z.object({
        otpauthUri: z.string().meta({ description: "otpauth://totp/Ringlet:<email>?secret=...&issuer=Ringlet&algorithm=SHA1&digits=6&period=30" }),
        secret: z.string().meta({ description: "The base32 secret, for typing in by hand" }),
      }),
    },
    403: { description: "`CURRENT_PASSWORD_INCORRECT`" },
    404: { description: "`USER_NOT_FOUND`" },
    409: { description: "`TWO_FACTOR_ALREADY_ENABLED`, `TWO_FACTOR_NOT_AVAILABLE`" },
  },
  handler: async ({ body }, ctx) => {
    const p = ctx.platform;
    const input = { userId: ctx.caller.userId, currentPassword: body.currentPassword };
    // On the pool: the password is checked before the domain opens its transaction (no lock held through the KDF).
    const enrollment = unwrap(await startEnrollment(ctx.domain(), input, { ...deps(p), kdf: p.kdf }));
    return { status: 201, body: enrollment, headers: noStore };
  },
});

route({
  name: "me-two-factor-confirm",
  method: "POST",
  path: "/v1/me/two-factor/confirm",
  access: authenticated,
  summary: "Confirm enrollment with a first code: two-factor sign-in is on; answers the recovery codes once",
  description: `The session that confirms counts as signed in with a second factor. Wrong codes are throttled like sign-ins. ${WRONG_CODE_NOTE}`,
  tags: ["me"],
  body: z.object({ code: totpCodeSchema }),
  responses: {
    200: { description: "On; keep the recovery codes somewhere safe", body: recoveryCodesSchema },
    403: { description: "`TWO_FACTOR_CODE_INCORRECT`" },
    409: { description: "`TWO_FACTOR_NOT_PENDING`, `TWO_FACTOR_NOT_ENABLED`" },
    429: { description: "`TWO_FACTOR_THROTTLED`, with Retry-After" },
  },
  handler: async ({ body }, ctx) => {
    const input = { userId: ctx.caller.userId, code: body.code, sessionId: ctx.caller.sessionId };
    const result = unwrap(await ctx.transaction((tx) => confirmEnrollment(ctx.domain(tx), input, deps(ctx.platform))));
    return { status: 200, body: result, headers: noStore };
  },
});

route({
  name: "me-two-factor-disable",
  method: "DELETE",
  path: "/v1/me/two-factor",
  access: authenticated,
  summary: "Turn two-factor sign-in off (the password and a current code)",
  description:
    "Refused (409 `TWO_FACTOR_MANDATORY`) when `AUTH_TWO_FACTOR_REQUIRED` covers the caller: an admin's reset " +
    "(DELETE /api/v1/users/{userId}/two-factor), which ends every session, is the way out. " +
    WRONG_CODE_NOTE,
  tags: ["me"],
  body: z.object({ currentPassword, code: totpCodeSchema }),
  responses: {
    204: { description: "Off; the authenticator and the recovery codes are forgotten" },
    403: { description: "`CURRENT_PASSWORD_INCORRECT`, `TWO_FACTOR_CODE_INCORRECT`" },
    404: { description: "`USER_NOT_FOUND`" },
    409: { description: "`TWO_FACTOR_NOT_ENABLED`, `TWO_FACTOR_NOT_PENDING`, `TWO_FACTOR_MANDATORY`" },
    429: { description: "`TWO_FACTOR_THROTTLED`, with Retry-After" },
  },
  handler: async ({ body }, ctx) => {
    const p = ctx.platform;
    const input = { userId: ctx.caller.userId, ...body };
    unwrap(await disableTwoFactor(ctx.domain(), input, { ...deps(p), kdf: p.kdf, rule: p.settings.AUTH_TWO_FACTOR_REQUIRED }));
    return { status: 204 };
  },
});

route({
  name: "me-two-factor-recovery-codes",
  method: "POST",
  path: "/v1/me/two-factor/recovery-codes",
  access: authenticated,
  summary: "New recovery codes for a current code; the old ones stop working",
  description: WRONG_CODE_NOTE,
  tags: ["me"],
  body: z.object({ code: totpCodeSchema }),
  responses: {
    200: { description: "The new codes, shown this once", body: recoveryCodesSchema },
    403: { description: "`TWO_FACTOR_CODE_INCORRECT`" },
    409: { description: "`TWO_FACTOR_NOT_ENABLED`, `TWO_FACTOR_NOT_PENDING`" },
    429: { description: "`TWO_FACTOR_THROTTLED`, with Retry-After" },
  },
  handler: async ({ body }, ctx) => {
    const input = { userId: ctx.caller.userId, code: body.code };
    const result = unwrap(await ctx.transaction((tx) => regenerateRecoveryCodes(ctx.domain(tx), input, deps(ctx.platform))));
    return { status: 200, body: result, headers: noStore };
  },
});

route({
  name: "users-two-factor-reset",
  method: "DELETE",
  path: "/v1/users/{userId}/two-factor",
  access: adminOnly,
  summary: "Reset a user's second factor (a lost phone): it is removed and every session of the user ends",
  description: "Audited. The user signs in with the password alone and enrolls again. Resetting a user without one ends their sessions all the same.",
  tags: ["users"],
  params: z.object({ userId: z.uuid() }),
  responses: {
    200: { description: "Reset", body: z.object({ hadTwoFactor: z.boolean(), revokedSessions: z.number().int() }) },
    404: { description: "`USER_NOT_FOUND`" },
  },
  handler: async ({ params }, ctx) => {
    const result = unwrap(await ctx.transaction((tx) => resetTwoFactor(ctx.domain(tx), params.userId)));
    return { status: 200, body: result };
  },
});

const challengeToken = z.string().min(1).max(200);

route({
  name: "auth-login-two-factor",
  method: "POST",
  path: "/v1/auth/login/two-factor",
  access: publicAccess,
  summary: "Finish a sign-in with a code from the authenticator app, or a recovery code",
  description:
    "The challenge comes from a 202 of POST /api/v1/auth/login, works once and for five minutes. A code is accepted " +
    "once; a recovery code works once. Wrong codes are slowed, then answered 429 with Retry-After, like passwords; " +
    "five wrong codes end the challenge. A wrong code is 401 `INVALID_TWO_FACTOR_CODE` here (the caller is not signed " +
    "in yet), and 403 `TWO_FACTOR_CODE_INCORRECT` on the operations of a signed-in caller. A code used already is " +
    "refused and the owner is emailed (at most once an hour). A challenge from before a password change is refused.",
  tags: ["auth"],
  body: z.union([
    z.object({ challengeToken, code: totpCodeSchema }).strict(),
    z.object({ challengeToken, recoveryCode: z.string().min(1).max(64) }).strict(),
  ]),
  responses: {
    200: { description: "Signed in", body: tokensSchema },
    401: { description: "`INVALID_TWO_FACTOR_CHALLENGE`, `INVALID_TWO_FACTOR_CODE`" },
    403: { description: "`ACCOUNT_DISABLED`" },
    429: { description: "`TWO_FACTOR_THROTTLED`, with Retry-After" },
  },
  handler: async ({ body }, ctx) => {
    const p = ctx.platform;
    const signedIn = unwrap(
      await completeTwoFactorSignIn(ctx.domain(), body, { ...deps(p), refreshTtlSeconds: sessionLifetimes(p.settings).refreshTtlSeconds, sleep }),
    );
    return { status: 200, body: await sessionTokens(p, signedIn.userId, signedIn.refresh), headers: noStore };
  },
});
