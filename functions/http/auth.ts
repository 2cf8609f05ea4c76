import { z } from "zod";
import { emailSchema, normalizeEmail } from "../../domain/identity/email.js";
import { loginWithPassword } from "../../domain/identity/login.js";
import { MAX_PASSWORD_LENGTH, passwordSchema } from "../../domain/identity/password-policy.js";
import { revokeRefreshToken, rotateRefreshToken } from "../../domain/identity/refresh-tokens.js";
import { registerUser } from "../../domain/identity/register-user.js";
import { publicAccess } from "../platform/http/access.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { noStore, sessionLifetimes, sessionTokens, tokensSchema } from "../platform/auth/session-tokens.js";
import { verificationOptions } from "../platform/auth/account-links.js";
import { displayNameSchema, userBody, userSchema } from "./schemas/user.js";
import { twoFactorChallengeSchema } from "./schemas/two-factor.js";

const refreshBody = z.object({ refreshToken: z.string().min(1).max(200) });
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

route({
  name: "auth-register",
  method: "POST",
  path: "/v1/auth/register",
  access: publicAccess,
  summary: "Create a learner account",
  tags: ["auth"],
  body: z.object({ email: emailSchema, password: passwordSchema, displayName: displayNameSchema }),
  responses: {
    201: { description: "Registered", body: userSchema },
    409: { description: "`EMAIL_TAKEN`" },
  },
  handler: async ({ body }, ctx) => {
    const user = unwrap(await registerUser(ctx.domain(), body, ctx.platform.kdf, verificationOptions(ctx.platform.settings)));
    return { status: 201, body: userBody(user), headers: { location: `/api/v1/users/${user.id}` } };
  },
});

route({
  name: "auth-login",
  method: "POST",
  path: "/v1/auth/login",
  access: publicAccess,
  summary: "Sign in with email and password",
  description:
    "Repeated failures per account and per client address are slowed, then answered 429 with Retry-After. A user with " +
    "two-factor sign-in on gets 202 with a challenge instead of tokens: finish with POST /api/v1/auth/login/two-factor.",
  tags: ["auth"],
  body: z.object({ email: z.string().max(254).transform(normalizeEmail), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) }),
  responses: {
    200: { description: "Signed in", body: tokensSchema },
    202: { description: "The password is right; a second factor is due within `expiresIn` seconds", body: twoFactorChallengeSchema },
    401: { description: "`INVALID_CREDENTIALS`" },
    403: { description: "`ACCOUNT_DISABLED`; `EMAIL_NOT_VERIFIED` when AUTH_UNVERIFIED_ACCESS is `none`" },
    429: { description: "`LOGIN_THROTTLED`, with Retry-After" },
  },
  handler: async ({ body }, ctx) => {
    const p = ctx.platform;
    const signedIn = unwrap(
      await loginWithPassword(ctx.domain(), body, {
        kdf: p.kdf,
        throttle: p.loginThrottle,
        refreshTtlSeconds: sessionLifetimes(p.settings).refreshTtlSeconds,
        unverifiedAccess: p.settings.AUTH_UNVERIFIED_ACCESS,
        sleep,
      }),
    );
    if ("challenge" in signedIn) {
      const { token, expiresIn } = signedIn.challenge;
      return { status: 202, body: { challengeToken: token, expiresIn, methods: ["totp", "recovery-code"] }, headers: noStore };
    }
    return { status: 200, body: await sessionTokens(p, signedIn.userId, signedIn.refresh), headers: noStore };
  },
});

route({
  name: "auth-refresh",
  method: "POST",
  path: "/v1/auth/refresh",
  access: publicAccess,
  summary: "Exchange a refresh token for new tokens (the old one stops working)",
  description: "Presenting a refresh token that was already exchanged ends every session of its family.",
  tags: ["auth"],
  body: refreshBody,
  responses: {
    200: { description: "New tokens", body: tokensSchema },
    401: { description: "`INVALID_REFRESH_TOKEN`, `REFRESH_TOKEN_REUSED`" },
    503: { description: "`AUTH_UNAVAILABLE`: revocation state could not be read, so nothing is issued" },
    403: { description: "`ACCOUNT_DISABLED`" },
  },
  handler: async ({ body }, ctx) => {
    const p = ctx.platform;
    const lifetimes = sessionLifetimes(p.settings);
    let rotated;
    try {
      rotated = await ctx.transaction((tx) => rotateRefreshToken(ctx.domain(tx), body.refreshToken, lifetimes.refreshTtlSeconds, lifetimes.maxAgeSeconds));
    } catch (err) {
      // Fail closed: when revocation state cannot be read, no token is issued.
      ctx.log.error("refresh failed closed", { err });
      throw new ProblemError("AUTH_UNAVAILABLE", { headers: { "retry-after": "5" } });
    }
    const r = unwrap(rotated);
    return { status: 200, body: await sessionTokens(p, r.userId, r), headers: noStore };
  },
});

route({
  name: "auth-logout",
  method: "POST",
  path: "/v1/auth/logout",
  access: publicAccess,
  summary: "End the session of a refresh token",
  tags: ["auth"],
  body: refreshBody,
  responses: { 204: { description: "Signed out (also for unknown tokens)" } },
  handler: async ({ body }, ctx) => {
    await ctx.transaction((tx) => revokeRefreshToken(ctx.domain(tx), body.refreshToken));
    return { status: 204 };
  },
});
