import { errors, jwtVerify, SignJWT } from "jose";
import type { EmailLinks } from "../../domain/notifications/notifications-for-event.js";
import { type NotificationCategory, notificationCategories } from "../../domain/notifications/preferences.js";
import { UUID_PATTERN } from "../../domain/shared/uuid.js";
import { importSigningKeys } from "./auth/access-tokens.js";
import type { Settings } from "./settings.js";

/**
 * One-click unsubscribe links (RFC 8058): a JWT naming the user and the category, signed with the access-token
 * keys (no new secret to provision, and key rotation by `kid` carries over), under a `typ` and an audience of its
 * own so that it can never pass as an access token (that check wants the API audience) nor an access token as it.
 * Long-lived, as mail is read late; the worst a leaked link does is turn one category of mail off.
 */
export interface UnsubscribeLinks {
  url(userId: string, category: NotificationCategory): Promise<string>;
  /** The user and category a token names; null when it is forged, expired or not an unsubscribe token. */
  verify(token: string): Promise<{ userId: string; category: NotificationCategory } | null>;
}

const TYP = "ringlet-unsubscribe+jwt";
const LIFETIME = "365d";

async function create(s: Settings): Promise<UnsubscribeLinks> {
  const audience = `unsubscribe:${s.AUTH_JWT_AUDIENCE}`;
  const { alg, signingKey, kid, verificationKey } = await importSigningKeys(s);
  const base = s.PUBLIC_API_URL.replace(/\/+$/, "");
  return {
    async url(userId, category) {
      const token = await new SignJWT({ cat: category })
        .setProtectedHeader({ alg, typ: TYP, ...(kid ? { kid } : {}) })
        .setSubject(userId)
        .setIssuer(s.AUTH_JWT_ISSUER)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(LIFETIME)
        .sign(signingKey);
      return `${base}/v1/unsubscribe?token=${token}`;
    },
    async verify(token) {
      const options = { issuer: s.AUTH_JWT_ISSUER, audience, typ: TYP, algorithms: [alg], requiredClaims: ["sub", "exp", "cat"], clockTolerance: s.AUTH_CLOCK_SKEW_S };
      try {
        const { payload } =
          typeof verificationKey === "function" ? await jwtVerify(token, verificationKey, options) : await jwtVerify(token, verificationKey, options);
        const category = notificationCategories.find((c) => c === payload.cat);
        return category && UUID_PATTERN.test(payload.sub ?? "") ? { userId: payload.sub as string, category } : null;
      } catch (err) {
        if (err instanceof errors.JOSEError) return null;
        throw err;
      }
    },
  };
}

const built = new WeakMap<Settings, Promise<UnsubscribeLinks>>();

/** Built once per settings object (per instance): keys are imported once. */
export function unsubscribeLinks(s: Settings): Promise<UnsubscribeLinks> {
  let links = built.get(s);
  if (!links) {
    links = create(s);
    built.set(s, links);
  }
  return links;
}

/** The domain's side of it: the link for a user and category in the emails it composes. */
export async function emailUnsubscribeLinks(s: Settings): Promise<Pick<EmailLinks, "unsubscribeUrl">> {
  const links = await unsubscribeLinks(s);
  return { unsubscribeUrl: (userId, category) => links.url(userId, category) };
}
