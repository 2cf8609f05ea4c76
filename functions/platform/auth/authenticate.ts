import type { HttpRequest } from "@azure/functions";
import { callerFlags } from "../../../domain/identity/caller.js";
import { userForExternalIdentity } from "../../../domain/identity/external-identity.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import { anonymous, type Principal } from "../http/access.js";
import { ProblemError } from "../http/problem.js";
import { type AccessTokens, TokenRejected } from "./access-tokens.js";

const unauthenticated = (detail: string) =>
  new ProblemError("UNAUTHENTICATED", {
    detail,
    headers: { "www-authenticate": `Bearer error="invalid_token", error_description="${detail.replace(/"/g, "'")}"` },
  });

/**
 * The caller from `Authorization: Bearer <JWT>`: anonymous without the header, 401 for a token that is
 * not valid or whose user is gone or disabled. The user's admin flag is read now, not from the token.
 */
export async function authenticate(request: HttpRequest, tokens: AccessTokens, domain: DomainContext): Promise<Principal> {
  const header = request.headers.get("authorization");
  if (header === null) return anonymous;
  const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\s*$/i.exec(header);
  if (!m?.[1]) throw unauthenticated("use Authorization: Bearer <access token>");
  let verified;
  try {
    verified = await tokens.verify(m[1]);
  } catch (err) {
    if (err instanceof TokenRejected) throw unauthenticated(err.message);
    throw err;
  }
  const userId = verified.kind === "local" ? verified.userId : await userForExternalIdentity(domain, verified);
  const flags = await callerFlags(domain.db, userId);
  if (!flags) throw unauthenticated("the token's user does not exist");
  if (flags.disabled) throw unauthenticated("the account is disabled");
  return { userId, isAdmin: flags.isAdmin, sessionId: verified.kind === "local" ? verified.sessionId : null };
}
