import { createHash } from "node:crypto";
import type { HttpRequest } from "@azure/functions";
import { ProblemError } from "./problem.js";

/** A strong ETag from a version marker (an updated-at time, a version number) or the representation itself. */
export function etagOf(value: unknown): string {
  const source = typeof value === "string" || typeof value === "number" ? String(value) : JSON.stringify(value);
  return `"${createHash("sha256").update(source).digest("base64url").slice(0, 27)}"`;
}

function listed(header: string | null, etag: string): boolean {
  if (header === null) return false;
  if (header.trim() === "*") return true;
  // Weak comparison for If-None-Match (RFC 9110 §13.1.2): W/ prefixes are ignored.
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

/** True when the client's copy is current, so the answer is 304 Not Modified. */
export function notModified(request: HttpRequest, etag: string): boolean {
  return listed(request.headers.get("if-none-match"), etag);
}

/**
 * The version an If-Match names: `pattern` matches the ETags this resource issues, its first group being the
 * version. Undefined without an If-Match, or `*` (unconditional); a tag the pattern does not match is 412.
 */
export function versionFromIfMatch(header: string | null, pattern: RegExp): number | undefined {
  if (header === null || header.trim() === "*") return undefined;
  const m = pattern.exec(header.trim());
  if (!m) throw new ProblemError("PRECONDITION_FAILED", { detail: "If-Match must be an ETag this API issued." });
  return Number(m[1]);
}

/** Refuses an update whose If-Match does not name the current ETag (412). No If-Match means unconditional. */
export function assertIfMatch(request: HttpRequest, currentEtag: string): void {
  const header = request.headers.get("if-match");
  if (header === null) return;
  const strong = header.trim() === "*" || header.split(",").some((tag) => tag.trim() === currentEtag);
  if (!strong) {
    throw new ProblemError("PRECONDITION_FAILED", {
      detail: "Read the resource again and retry with its current ETag.",
      headers: { etag: currentEtag },
    });
  }
}
