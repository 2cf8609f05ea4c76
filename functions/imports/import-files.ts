import type { Readable } from "node:stream";
import { ImportFileRefused, type OpenPart } from "../../domain/imports/stage-import.js";
import type { BlobFileStore } from "../platform/file-store.js";

/**
 * How the stage step reads an import's parts: a CSV upload is its one part, streamed from Blob Storage. A zip
 * (OneRoster) is read by the bundle reader once that kind lands; until then no kind takes a zip.
 */
export function importPartOpener(files: BlobFileStore, blobName: string, contentType: string): OpenPart {
  if (contentType === "application/zip") {
    return async () => {
      throw new ImportFileRefused("Zip bundles cannot be imported yet.");
    };
  }
  return async () => {
    const response = await files.blobClient(blobName).download();
    const body = response.readableStreamBody;
    if (!body) throw new Error(`blob ${blobName} answered without a body`);
    return body as Readable;
  };
}
