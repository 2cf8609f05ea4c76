import type { HttpRequest } from "@azure/functions";
import { ProblemError } from "./problem.js";

/** Reads the raw body, refusing it with 413 as soon as it passes `limit` bytes. */
export async function readBody(request: HttpRequest, limit: number): Promise<Buffer> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!request.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

const tooLarge = (limit: number) =>
  new ProblemError("PAYLOAD_TOO_LARGE", { detail: `The request body must not exceed ${limit} bytes.` });

// Invalid bytes are refused rather than replaced with U+FFFD, which would store something the caller never sent.
const utf8 = new TextDecoder("utf-8", { fatal: true });

const formTypes = new Set(["application/x-www-form-urlencoded", "multipart/form-data"]);

/**
 * Parses an HTML form body into its text fields (the last of a repeated field wins): url-encoded or multipart,
 * both of which RFC 8058 one-click unsubscribe allows. An empty body is `undefined`, as for JSON.
 */
export async function parseFormBody(request: HttpRequest, raw: Buffer): Promise<unknown> {
  if (raw.length === 0) return undefined;
  const type = request.headers.get("content-type") ?? "";
  if (!formTypes.has(type.split(";")[0]?.trim().toLowerCase() ?? "")) {
    throw new ProblemError("UNSUPPORTED_MEDIA_TYPE", { detail: "Send the body as application/x-www-form-urlencoded or multipart/form-data." });
  }
  let form: FormData;
  try {
    utf8.decode(raw);
    // The fetch API's own form parser (undici), for both encodings.
    form = await new Response(new Uint8Array(raw), { headers: { "content-type": type } }).formData();
  } catch {
    throw new ProblemError("VALIDATION_FAILED", { detail: "The request body is not a valid form." });
  }
  const fields: Record<string, string> = {};
  for (const [name, value] of form) if (typeof value === "string") fields[name] = value;
  return fields;
}

/** Parses a JSON body; an empty body is `undefined` so the schema decides whether one is required. */
export function parseJsonBody(request: HttpRequest, raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const type = request.headers.get("content-type") ?? "";
  const mediaType = type.split(";")[0]?.trim().toLowerCase() ?? "";
  if (mediaType !== "application/json" && !mediaType.endsWith("+json")) {
    throw new ProblemError("UNSUPPORTED_MEDIA_TYPE", { detail: "Send the body as application/json." });
  }
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new ProblemError("MALFORMED_JSON", { detail: "The request body is not valid UTF-8." });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ProblemError("MALFORMED_JSON", { detail: (err as Error).message });
  }
}
