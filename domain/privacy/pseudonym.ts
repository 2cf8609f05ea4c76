import { createHash } from "node:crypto";

/** What an erased user is called from then on: derived from the id, so every retry of an erasure writes the same. */
export interface Pseudonym {
  shortId: string;
  email: string;
  displayName: string;
}

export function pseudonymFor(userId: string): Pseudonym {
  // A hash, not the id's first characters: UUIDv7 ids begin with their creation time, shared by users made together.
  const shortId = createHash("sha256").update(userId).digest("hex").slice(0, 12);
  // .invalid is reserved (RFC 2606): no mail can ever be delivered to it.
  return { shortId, email: `erased-${shortId}@users.invalid`, displayName: `Erased user ${shortId}` };
}
