import { errors, SignJWT } from "jose";
import { UUID_PATTERN } from "../../domain/shared/uuid.js";
import { importSigningKeys, verifyWithKey } from "./auth/access-tokens.js";
import type { Settings } from "./settings.js";

/**
 * Links in emails that open later without a bearer token (unsubscribe, finance documents): a JWT whose subject is a
 * uuid and with one claim of its own, signed with the access-token keys (no new secret to provision; key rotation by
 * `kid` carries over) under a `typ` and an audience of its own, so it never passes as an access token nor one as it.
 */
export interface SignedLinks<T> {
  url(value: T): Promise<string>;
  /** What a token names; null when it is forged, expired or not a token of this kind. */
  verify(token: string): Promise<T | null>;
}

export interface SignedLinkKind<T> {
  typ: string;
  /** Prefixed to the API audience: `<audience>:<AUTH_JWT_AUDIENCE>`. */
  audience: string;
  lifetime: string;
  /** The API path the link leads to; the token goes in `?token=`. */
  path: string;
  /** The one claim beside `sub` (required). */
  claim: string;
  write(value: T): { subject: string; claim: string };
  /** The value from a verified token whose subject is a uuid; null when the claim is not one of this kind's. */
  read(subject: string, claim: unknown): T | null;
}

async function create<T>(s: Settings, kind: SignedLinkKind<T>): Promise<SignedLinks<T>> {
  const audience = `${kind.audience}:${s.AUTH_JWT_AUDIENCE}`;
  const { alg, signingKey, kid, verificationKey } = await importSigningKeys(s);
  const base = s.PUBLIC_API_URL.replace(/\/+$/, "");
  return {
    async url(value) {
      const { subject, claim } = kind.write(value);
      const token = await new SignJWT({ [kind.claim]: claim })
        .setProtectedHeader({ alg, typ: kind.typ, ...(kid ? { kid } : {}) })
        .setSubject(subject)
        .setIssuer(s.AUTH_JWT_ISSUER)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(kind.lifetime)
        .sign(signingKey);
      return `${base}${kind.path}?token=${token}`;
    },
    async verify(token) {
      const options = { issuer: s.AUTH_JWT_ISSUER, audience, typ: kind.typ, algorithms: [alg], requiredClaims: ["sub", "exp", kind.claim], clockTolerance: s.AUTH_CLOCK_SKEW_S };
      try {
        const { payload } = await verifyWithKey(verificationKey, token, options);
        return payload.sub && UUID_PATTERN.test(payload.sub) ? kind.read(payload.sub, payload[kind.claim]) : null;
      } catch (err) {
        if (err instanceof errors.JOSEError) return null;
        throw err;
      }
    },
  };
}

/** The links of one kind, built once per settings object (per instance): keys are imported once. */
export function signedLinks<T>(kind: SignedLinkKind<T>): (s: Settings) => Promise<SignedLinks<T>> {
  const built = new WeakMap<Settings, Promise<SignedLinks<T>>>();
  return (s) => {
    let links = built.get(s);
    if (!links) {
      links = create(s, kind);
      built.set(s, links);
    }
    return links;
  };
}
