/** What the API answers when it grants an upload: a short-lived URL to PUT the bytes to, and the headers to send. */
export interface UploadGrant {
  url: string;
  method: "PUT";
  headers: Record<string, string>;
}

/**
 * Sends a file straight to Blob Storage with the URL the API granted (the bytes never pass through the function
 * app). Resolves when storage has the whole file; the caller then confirms the upload with the API where the route
 * asks for it. Progress (0..1) is reported for long uploads.
 */
export function putToBlob(grant: UploadGrant, file: Blob, onProgress?: (share: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(grant.method, grant.url);
    for (const [name, value] of Object.entries(grant.headers)) xhr.setRequestHeader(name, value);
    if (onProgress) xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`Storage refused the upload (${xhr.status}).`)));
    xhr.onerror = () => reject(new Error("The upload could not reach storage."));
    xhr.send(file);
  });
}
