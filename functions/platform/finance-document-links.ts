import { errors, jwtVerify, SignJWT } from "jose";
import type { FinanceDocumentKind } from "../../domain/finance/invoice-view.js";
import { UUID_PATTERN } from "../../domain/shared/uuid.js";
import { importSigningKeys } from "./auth/access-tokens.js";
import type { Settings } from "./settings.js";

/**
 * Links to an invoice's or credit note's PDF in emails: they must open later in a browser, without a bearer token.
 * A JWT naming the document, signed with the access-token keys (as the unsubscribe links are) under a `typ` and an
 * audience of its own, so it never passes as an access token nor one as it. The link leads to a route that answers
 * 303 to a fresh short-lived Blob link; the link itself expires after LIFETIME (mail is read late, but a
 * forwarded or leaked email must not open it for long: after that, sign in and open the invoice).
 */
export interface FinanceDocumentLinks {
  url(kind: FinanceDocumentKind, id: string): Promise<string>;
  /** The document a token names; null when it is forged, expired or not a document link. */
  verify(token: string): Promise<{ kind: FinanceDocumentKind; id: string } | null>;
}

const TYP = "ringlet-finance-document+jwt";
const LIFETIME = "72h";

async function create(s: Settings): Promise<FinanceDocumentLinks> {
  const audience = `finance-document:${s.AUTH_JWT_AUDIENCE}`;
  const { alg, signingKey, kid, verificationKey } = await importSigningKeys(s);
  const base = s.PUBLIC_API_URL.replace(/\/+$/, "");
  return {
    async url(kind, id) {
      const token = await new SignJWT({ doc: kind })
        .setProtectedHeader({ alg, typ: TYP, ...(kid ? { kid } : {}) })
        .setSubject(id)
        .setIssuer(s.AUTH_JWT_ISSUER)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(LIFETIME)
        .sign(signingKey);
      return `${base}/v1/finance-documents/pdf?token=${token}`;
    },
    async verify(token) {
      const options = { issuer: s.AUTH_JWT_ISSUER, audience, typ: TYP, algorithms: [alg], requiredClaims: ["sub", "exp", "doc"], clockTolerance: s.AUTH_CLOCK_SKEW_S };
      try {
        const { payload } =
          typeof verificationKey === "function" ? await jwtVerify(token, verificationKey, options) : await jwtVerify(token, verificationKey, options);
        const kind = payload.doc === "invoice" || payload.doc === "credit-note" ? payload.doc : null;
        return kind && UUID_PATTERN.test(payload.sub ?? "") ? { kind, id: payload.sub as string } : null;
      } catch (err) {
        if (err instanceof errors.JOSEError) return null;
        throw err;
      }
    },
  };
}

const built = new WeakMap<Settings, Promise<FinanceDocumentLinks>>();

/** Built once per settings object (per instance): keys are imported once. */
export function financeDocumentLinks(s: Settings): Promise<FinanceDocumentLinks> {
  let links = built.get(s);
  if (!links) {
    links = create(s);
    built.set(s, links);
  }
  return links;
}
