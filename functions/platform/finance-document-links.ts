import type { FinanceDocumentKind } from "../../domain/finance/invoice-view.js";
import type { Settings } from "./settings.js";
import { signedLinks } from "./signed-links.js";

/**
 * Links to an invoice's or credit note's PDF in emails: they must open later in a browser, without a bearer token.
 * A JWT naming the document, signed with the access-token keys (as the unsubscribe links are) under a `typ` and an
 * audience of its own, so it never passes as an access token nor one as it. The link leads to a route that answers
 * 303 to a fresh short-lived Blob link; the link itself expires after 72 hours (mail is read late, but a
 * forwarded or leaked email must not open it for long: after that, sign in and open the invoice).
 */
export interface FinanceDocumentLinks {
  url(kind: FinanceDocumentKind, id: string): Promise<string>;
  /** The document a token names; null when it is forged, expired or not a document link. */
  verify(token: string): Promise<{ kind: FinanceDocumentKind; id: string } | null>;
}

const links = signedLinks<{ kind: FinanceDocumentKind; id: string }>({
  typ: "ringlet-finance-document+jwt",
  audience: "finance-document",
  lifetime: "72h",
  path: "/v1/finance-documents/pdf",
  claim: "doc",
  write: ({ kind, id }) => ({ subject: id, claim: kind }),
  read: (id, doc) => (doc === "invoice" || doc === "credit-note" ? { kind: doc, id } : null),
});

/** Built once per settings object (per instance): keys are imported once. */
export async function financeDocumentLinks(s: Settings): Promise<FinanceDocumentLinks> {
  const signed = await links(s);
  return { url: (kind, id) => signed.url({ kind, id }), verify: (token) => signed.verify(token) };
}
