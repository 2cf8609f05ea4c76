import type { Readable } from "node:stream";
import { ImportFileRefused, type OpenPart } from "../../domain/imports/stage-import.js";
import type { BlobFileStore } from "../platform/file-store.js";
import { BundleRefusedError, openBundlePart } from "./zip-bundle.js";

/**
 * How the stage step reads an import's parts: a CSV upload is its one part, streamed from Blob Storage; a zip
 * (OneRoster) gives each part from its entry, read by ranges. A bundle the zip reader refuses refuses the import.
 */
export function importPartOpener(files: BlobFileStore, blobName: string, contentType: string): OpenPart {
  if (contentType === "application/zip") {
    return async (file) => {
      try {
        return await openBundlePart(files, blobName, file);
      } catch (err) {
        if (err instanceof BundleRefusedError) throw new ImportFileRefused(err.reason);
        throw err;
      }
    };
  }
  return async () => {
    const response = await files.blobClient(blobName).download();
    const body = response.readableStreamBody;
    if (!body) throw new Error(`blob ${blobName} answered without a body`);
    return body as Readable;
  };
}
