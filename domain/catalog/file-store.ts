import { fail, ok, type Result } from "../shared/result.js";

/** Where lesson files live. The domain picks names and checks what was uploaded; bytes never pass through it. */
export interface FileStore {
  /** A short-lived URL that can only create/write this one blob. */
  uploadUrl(blobName: string, contentType: string, ttlSeconds: number): Promise<UploadGrant>;
  /**
   * A short-lived read-only URL for this one blob; `downloadName` sets the saved file's name. `inline` asks the
   * browser to show the file (a PDF in a frame) instead of saving it.
   */
  downloadUrl(blobName: string, ttlSeconds: number, downloadName?: string, options?: { inline?: boolean }): Promise<{ url: string; expiresAt: Date }>;
  /** What was stored under this name, or null when nothing was. */
  stat(blobName: string): Promise<StoredFile | null>;
}

export interface UploadGrant {
  url: string;
  method: "PUT";
  /** Headers the client must send with the upload. */
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface StoredFile {
  contentType: string | null;
  sizeBytes: number;
}

/** What differs between a stored blob and what was declared (type, then exact size); empty when it matches. Pure. */
export function uploadMismatches(stored: StoredFile, declared: { contentType: string | null; sizeBytes: number | null }): string[] {
  const mismatches: string[] = [];
  if (stored.contentType !== declared.contentType) mismatches.push(`content type is ${stored.contentType ?? "missing"}, declared ${declared.contentType}`);
  if (stored.sizeBytes !== declared.sizeBytes) mismatches.push(`size is ${stored.sizeBytes} bytes, declared ${declared.sizeBytes}`);
  return mismatches;
}

/** The failure detail naming `uploadMismatches`' list. */
export const mismatchDetail = (mismatches: string[]) => `The upload does not match what was declared: ${mismatches.join("; ")}.`;

/**
 * Checks an uploaded blob against what was declared (type and exact size) before anyone can rely on it: nothing
 * uploaded yet, or a mismatch, is a clear failure naming what differs.
 */
export async function checkUpload(
  store: FileStore,
  blobName: string,
  declared: { contentType: string | null; sizeBytes: number | null },
): Promise<Result<StoredFile, "FILE_NOT_UPLOADED" | "FILE_MISMATCH">> {
  const stored = await store.stat(blobName);
  if (!stored) return fail("FILE_NOT_UPLOADED", "Nothing was uploaded to the upload URL yet.");
  const mismatches = uploadMismatches(stored, declared);
  if (mismatches.length) return fail("FILE_MISMATCH", mismatchDetail(mismatches), { mismatches });
  return ok(stored);
}
