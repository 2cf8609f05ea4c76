import { z } from "zod";
import { emailSchema } from "../../domain/identity/email.js";
import { resendVerificationEmail, verifyEmail } from "../../domain/identity/email-verification.js";
import { confirmPasswordReset, requestPasswordReset } from "../../domain/identity/password-reset.js";
import { passwordSchema } from "../../domain/identity/password-policy.js";
import { passwordResetOptions, verificationOptions } from "../platform/auth/account-links.js";
import { authenticated, publicAccess } from "../platform/http/access.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";

// The emailed single-use links of an account: confirming the address and resetting a forgotten password.

// The tokens are 43 characters; anything far longer is not one of ours, and is refused before any lookup.
export const accountTokenSchema = z.string().min(1).max(200).meta({ description: "The token from the emailed link" });
const badToken = { 400: { description: "`TOKEN_INVALID` (unknown, forged or replaced by a newer link), `TOKEN_USED`, `TOKEN_EXPIRED`, or `VALIDATION_FAILED`" } };

route({
  name: "auth-verify-email",
  method: "POST",
  path: "/v1/auth/verify-email",
  access: publicAccess,
  summary: "Confirm your email address with the token from the confirmation email",
  tags: ["auth"],
  body: z.object({ token: accountTokenSchema }),
  responses: { 204: { description: "The address is confirmed" }, ...badToken },
  handler: async ({ body }, ctx) => {
    unwrap(await ctx.transaction((tx) => verifyEmail(ctx.domain(tx), body.token)));
    return { status: 204 };
  },
});

route({
  name: "auth-verify-email-resend",
  method: "POST",
  path: "/v1/auth/verify-email/resend",
  access: authenticated,
  summary: "Send a new confirmation email (the earlier links stop working)",
  description: "At most one a minute and five a day (the one sent at registration counts); more are answered 429 with Retry-After.",
  tags: ["auth"],
  responses: {
    202: { description: "A new confirmation email is on its way", body: z.object({ expiresAt: z.iso.datetime() }) },
    404: { description: "`USER_NOT_FOUND`" },
    409: { description: "`EMAIL_ALREADY_VERIFIED`" },
    429: { description: "`VERIFICATION_THROTTLED`, with Retry-After" },
  },
  handler: async (_input, ctx) => {
    const sent = unwrap(await ctx.transaction((tx) => resendVerificationEmail(ctx.domain(tx), ctx.caller.userId, verificationOptions(ctx.platform.settings))));
    return { status: 202, body: { expiresAt: sent.expiresAt.toISOString() } };
  },
});

const resetAccepted = z.object({ detail: z.string() });

route({
  name: "auth-password-reset",
  method: "POST",
  path: "/v1/auth/password-reset",
  access: publicAccess,
  summary: "Ask for a password reset link by email",
  description:
    "Always 202 with the same body, whether an account has the address or not; the email is sent after the answer. " +
    "Past a few requests an hour for one address nothing more is sent (still 202); too many from one client address are answered 429 with Retry-After.",
  tags: ["auth"],
  body: z.object({ email: emailSchema }),
  responses: { 202: { description: "Accepted", body: resetAccepted }, 429: { description: "`PASSWORD_RESET_THROTTLED`, with Retry-After" } },
  handler: async ({ body }, ctx) => {
    unwrap(await ctx.transaction((tx) => requestPasswordReset(ctx.domain(tx), body.email, passwordResetOptions(ctx.platform.settings))));
    return { status: 202, body: { detail: "If an account has this address, a link to reset its password is on its way." }, headers: { "cache-control": "no-store" } };
  },
});

route({
  name: "auth-password-reset-confirm",
  method: "POST",
  path: "/v1/auth/password-reset/confirm",
  access: publicAccess,
  summary: "Set a new password with the token from the reset email; every session ends",
  tags: ["auth"],
  body: z.object({ token: accountTokenSchema, newPassword: passwordSchema }),
  responses: { 204: { description: "The password is replaced; sign in with it" }, ...badToken, 403: { description: "`ACCOUNT_DISABLED`" } },
  handler: async ({ body }, ctx) => {
    const p = ctx.platform;
    // On the pool: the domain refuses a bad token and hashes before it opens its transaction.
    unwrap(await confirmPasswordReset(ctx.domain(), body, p.kdf, { appUrl: p.settings.PUBLIC_APP_URL }));
    return { status: 204 };
  },
});
