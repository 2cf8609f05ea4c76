import type { HttpRequest } from "@azure/functions";
import { callerFlags, type TwoFactorRule } from "../../../domain/identity/caller.js";
import type { UnverifiedAccess } from "../../../domain/identity/email-verification.js";
import { ACCOUNT_DISABLED_DETAIL } from "../../../domain/identity/identity.errors.js";
import { userForExternalIdentity } from "../../../domain/identity/external-identity.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import { anonymous, type Principal } from "../http/access.js";
import { ProblemError } from "../http/problem.js";
import { type AccessTokens, TokenCheckUnavailable, TokenRejected } from "./access-tokens.js";

const unauthenticated = (detail: string) =>
  new ProblemError("UNAUTHENTICATED", {
    detail,
    headers: { "www-authenticate": `Bearer error="invalid_token", error_description="${detail.replace(/"/g, "'")}"` },
  });

/** `amr` values (RFC 8176) that say the issuer checked more than a password. */
const SECOND_FACTOR_AMR = new Set(["mfa", "otp", "hwk", "swk", "sms", "fpt", "face", "iris", "retina", "vbm", "sc"]);

export interface AuthenticationPolicy {
  twoFactorRule: TwoFactorRule;
  /** AUTH_UNVERIFIED_ACCESS: with `none`, an external identity whose address is not confirmed owes it. */
  unverifiedAccess: UnverifiedAccess;
}

/**
 * The caller from `Authorization: Bearer <JWT>`: anonymous without the header, 401 for a token that is
 * not valid or whose user is gone or disabled. The user's admin flag is read now, not from the token.
 * An external identity proves its second factor at its issuer: the rule reads the token's `amr` claim for it.
 * A local token's address was checked at sign-in (AUTH_UNVERIFIED_ACCESS=none refuses it there); an external
 * token has no sign-in here, so its address is checked on each request instead.
 */
export async function authenticate(
  request: HttpRequest,
  tokens: AccessTokens,
  domain: DomainContext,
  policy: AuthenticationPolicy = { twoFactorRule: "none", unverifiedAccess: "browse" },
): Promise<Principal> {
  const header = request.headers.get("authorization");
  if (header === null) return anonymous;
  const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\s*$/i.exec(header);
  if (!m?.[1]) throw unauthenticated("use Authorization: Bearer <access token>");
  let verified;
  try {
    verified = await tokens.verify(m[1]);
  } catch (err) {
    if (err instanceof TokenRejected) throw unauthenticated(err.message);
    if (err instanceof TokenCheckUnavailable) throw new ProblemError("AUTH_UNAVAILABLE", { detail: err.message, headers: { "retry-after": "5" } });
    throw err;
  }
  const userId = verified.kind === "local" ? verified.userId : await userForExternalIdentity(domain, verified);
  const sessionId = verified.kind === "local" ? verified.sessionId : null;
  const flags = await callerFlags(domain.db, userId, sessionId, policy.twoFactorRule);
  if (!flags) throw unauthenticated("the token's user does not exist");
  // The session ended with the deactivation; signing in again answers ACCOUNT_DISABLED. An external identity's
  // token is its only sign-in, so the reason is said here too.
  if (flags.disabled) throw unauthenticated(ACCOUNT_DISABLED_DETAIL);
  // Logout, a password change or an admin revoke end the session at once, not when the token expires.
  if (!flags.sessionActive) throw unauthenticated("the session has ended; sign in again");
  if (verified.kind === "local") return { userId, isAdmin: flags.isAdmin, isFinance: flags.isFinance, sessionId, twoFactorPending: flags.twoFactorPending };
  const secondFactor = (verified.amr ?? []).some((m) => SECOND_FACTOR_AMR.has(m));
  return {
    userId,
    isAdmin: flags.isAdmin,
    isFinance: flags.isFinance,
    sessionId,
    twoFactorPending: flags.twoFactorPending && !secondFactor,
    emailUnverified: policy.unverifiedAccess === "none" && !flags.emailVerified,
  };
}
