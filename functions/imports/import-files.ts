import type { Readable } from "node:stream";
import type { OpenPart } from "../../domain/imports/stage-import.js";
import type { BlobFileStore } from "../platform/file-store.js";
import { openBundlePart } from "./zip-bundle.js";

/**
 * How the stage step reads an import's parts: a CSV upload is its one part, streamed from Blob Storage; a zip
 * (OneRoster) gives each part from its entry, read by ranges. The bundle reader's refusals are ImportFileRefused:
 * they refuse the import with their reason.
 */
export function importPartOpener(files: BlobFileStore, blobName: string, contentType: string): OpenPart {
  if (contentType === "application/zip") return (file) => openBundlePart(files, blobName, file);
  return async () => {
    const response = await files.blobClient(blobName).download();
    const body = response.readableStreamBody;
    if (!body) throw new Error(`blob ${blobName} answered without a body`);
    return body as Readable;
  };
}
