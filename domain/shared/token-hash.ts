import { createHash } from "node:crypto";

/**
 * How every secret token the app hands out (refresh tokens, emailed links, invitations, two-factor challenges and
 * recovery codes) is stored: only its SHA-256, so a leaked row cannot be turned back into a working token.
 */
export const hashToken = (token: string): string => createHash("sha256").update(token).digest("base64url");
