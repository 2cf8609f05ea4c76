import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors, importJWK, type JWK, type JWTVerifyGetKey, type JWTVerifyOptions, jwtVerify, SignJWT } from "jose";
import { UUID_PATTERN } from "../../../domain/shared/uuid.js";
import type { Settings } from "../settings.js";

export interface AccessClaims {
  userId: string;
  /** The refresh-token family (the session) the token was issued for. */
  sessionId: string;
}

export type VerifiedToken =
  | { kind: "local"; userId: string; sessionId: string | null }
  | { kind: "external"; issuer: string; subject: string; email?: string; emailVerified?: boolean; name?: string; amr?: string[] };

export class TokenRejected extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "TokenRejected";
  }
}

/** The token could not be checked now (the external issuer's keys are out of reach): neither valid nor not. */
export class TokenCheckUnavailable extends Error {
  constructor(cause: unknown) {
    super("the token issuer's keys cannot be fetched", { cause });
    this.name = "TokenCheckUnavailable";
  }
}

export interface AccessTokens {
  sign(claims: AccessClaims): Promise<{ token: string; expiresIn: number }>;
  /** Verifies a bearer token: signature with a pinned algorithm, issuer, audience, expiry (small skew). */
  verify(token: string): Promise<VerifiedToken>;
}

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k"] as const;

/** The app's JWT keys, imported once: what signs (with its `kid` for asymmetric keys) and what verifies. */
export interface SigningKeys {
  alg: Settings["AUTH_JWT_ALGORITHM"];
  signingKey: Awaited<ReturnType<typeof importJWK>>;
  kid: string | undefined;
  verificationKey: Awaited<ReturnType<typeof importJWK>> | JWTVerifyGetKey;
}

/** Verifies a token against the app's verification key: one key (HS256) or a key set (the overloads want either, not the union). */
export function verifyWithKey(verificationKey: SigningKeys["verificationKey"], token: string, options: JWTVerifyOptions) {
  return typeof verificationKey === "function" ? jwtVerify(token, verificationKey, options) : jwtVerify(token, verificationKey, options);
}

/** Imports the access-token keys of the settings; other tokens the app signs (unsubscribe links) use them too. */
export async function importSigningKeys(s: Settings): Promise<SigningKeys> {
  const alg = s.AUTH_JWT_ALGORITHM;
  if (alg === "HS256") {
    // Imported once: given the raw bytes, jose imports the key again on every sign and verify.
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(s.AUTH_JWT_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    return { alg, signingKey: key, kid: undefined, verificationKey: key };
  }
  const set = JSON.parse(s.AUTH_JWT_PRIVATE_JWKS ?? "") as { keys: JWK[] };
  const first = set.keys[0];
  if (!first?.kid) throw new Error("AUTH_JWT_PRIVATE_JWKS: the first key signs and needs a kid");
  const publicKeys = set.keys.map((k) => Object.fromEntries(Object.entries(k).filter(([m]) => !(PRIVATE_MEMBERS as readonly string[]).includes(m))) as JWK);
  return {
    alg,
    signingKey: await importJWK({ ...first, alg }, alg),
    kid: first.kid,
    verificationKey: createLocalJWKSet({ keys: publicKeys.map((k) => ({ ...k, alg })) }),
  };
}

/** Built once per instance from the settings; keys are imported once. */
export async function createAccessTokens(s: Settings): Promise<AccessTokens> {
  const { alg, signingKey, kid, verificationKey } = await importSigningKeys(s);
  const external =
    s.AUTH_OIDC_ISSUER && s.AUTH_OIDC_JWKS_URL && s.AUTH_OIDC_AUDIENCE
      ? { issuer: s.AUTH_OIDC_ISSUER, audience: s.AUTH_OIDC_AUDIENCE, keys: createRemoteJWKSet(new URL(s.AUTH_OIDC_JWKS_URL)) }
      : undefined;

  const common = { clockTolerance: s.AUTH_CLOCK_SKEW_S };

  return {
    async sign(claims) {
      const token = await new SignJWT({ sid: claims.sessionId })
        .setProtectedHeader({ alg, typ: "JWT", ...(kid ? { kid } : {}) })
        .setSubject(claims.userId)
        .setIssuer(s.AUTH_JWT_ISSUER)
        .setAudience(s.AUTH_JWT_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${s.AUTH_ACCESS_TOKEN_TTL_S}s`)
        .sign(signingKey);
      return { token, expiresIn: s.AUTH_ACCESS_TOKEN_TTL_S };
    },

    async verify(token) {
      let issuer: string | undefined;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        throw new TokenRejected("malformed token");
      }
      try {
        if (external && issuer === external.issuer) {
          // External tokens are always asymmetric: an HS256 token "signed" with a public key is refused here.
          const { payload } = await jwtVerify(token, external.keys, {
            ...common,
            issuer: external.issuer,
            audience: external.audience,
            algorithms: ["RS256", "ES256"],
          });
          if (!payload.sub) throw new TokenRejected("token has no subject");
          return {
            kind: "external",
            issuer: external.issuer,
            subject: payload.sub,
            ...(typeof payload.email === "string" ? { email: payload.email } : {}),
            ...(typeof payload.email_verified === "boolean" ? { emailVerified: payload.email_verified } : {}),
            ...(typeof payload.name === "string" ? { name: payload.name } : {}),
            // How the issuer authenticated the subject (RFC 8176): read for the two-factor rule.
            ...(Array.isArray(payload.amr) ? { amr: payload.amr.filter((m): m is string => typeof m === "string") } : {}),
          };
        }
        const options = { ...common, issuer: s.AUTH_JWT_ISSUER, audience: s.AUTH_JWT_AUDIENCE, algorithms: [alg], requiredClaims: ["sub", "exp", "iat"] };
        const { payload } = await verifyWithKey(verificationKey, token, options);
        // Our own tokens name a user id and a session id; anything else was not issued by this app.
        if (!UUID_PATTERN.test(payload.sub ?? "")) throw new TokenRejected("token subject is not accepted");
        if (payload.sid !== undefined && (typeof payload.sid !== "string" || !UUID_PATTERN.test(payload.sid))) throw new TokenRejected("token session is not accepted");
        return { kind: "local", userId: payload.sub as string, sessionId: typeof payload.sid === "string" ? payload.sid : null };
      } catch (err) {
        if (err instanceof TokenRejected) throw err;
        if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
          if (external && issuer === external.issuer) throw new TokenCheckUnavailable(err);
        }
        if (err instanceof errors.JWTExpired) throw new TokenRejected("token expired");
        if (err instanceof errors.JWTClaimValidationFailed) throw new TokenRejected(`token ${err.claim} is not accepted`);
        if (err instanceof errors.JOSEAlgNotAllowed) throw new TokenRejected("token algorithm is not accepted");
        if (err instanceof errors.JOSEError) throw new TokenRejected("token signature or format is not valid");
        throw err;
      }
    },
  };
}
