/** Where lesson files live. The domain picks names and checks what was uploaded; bytes never pass through it. */
export interface FileStore {
  /** A short-lived URL that can only create/write this one blob. */
  uploadUrl(blobName: string, contentType: string, ttlSeconds: number): Promise<UploadGrant>;
  /** A short-lived read-only URL for this one blob; `downloadName` sets the saved file's name. */
  downloadUrl(blobName: string, ttlSeconds: number, downloadName?: string): Promise<{ url: string; expiresAt: Date }>;
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
