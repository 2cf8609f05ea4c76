import { once } from "node:events";
import { Readable } from "node:stream";
import { RestError } from "@azure/storage-blob";
import type { Executor } from "../../domain/db/client.js";
import { exportStagingPrefix } from "../../domain/privacy/data-exports.js";
import { type PersonalDataPart, type PersonalDataSources, personalDataParts, personalFiles } from "../../domain/privacy/personal-data.js";
import type { BlobFileStore } from "../platform/file-store.js";

// Block size of the streamed uploads: the most either upload holds in memory is this times its concurrency.
const UPLOAD_BLOCK_BYTES = 4 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 2;

/** Where a part waits, as JSON, between its activity and the one that zips the parts (under the user's prefix). */
const stagingName = (userId: string, exportId: string, part: PersonalDataPart) => `${exportStagingPrefix(userId, exportId)}${part.file}`;

/**
 * Writes one part as a JSON array to its staging blob, page by page: a part never has to fit in memory, and a
 * retried activity overwrites what a crashed one left. Returns how many records the part holds.
 */
export async function stagePart(files: BlobFileStore, exportId: string, part: PersonalDataPart, sources: PersonalDataSources, userId: string): Promise<number> {
  let records = 0;
  async function* json() {
    yield Buffer.from("[");
    for await (const page of part.pages(sources, userId)) {
      for (const record of page) {
        yield Buffer.from(`${records === 0 ? "\n" : ",\n"}${JSON.stringify(record, null, 2)}`);
        records++;
      }
    }
    yield Buffer.from("\n]\n");
  }
  await files
    .blobClient(stagingName(userId, exportId, part))
    .getBlockBlobClient()
    .uploadStream(Readable.from(json()), UPLOAD_BLOCK_BYTES, UPLOAD_CONCURRENCY, { blobHTTPHeaders: { blobContentType: "application/json" } });
  return records;
}

const readme = (exportId: string, generatedAt: Date) =>
  [
    "Your Ringlet data",
    "=================",
    "",
    `Export ${exportId}, made ${generatedAt.toISOString()}. Everything Ringlet holds about you, as JSON files (UTF-8):`,
    "",
    ...personalDataParts.map((p) => `${p.file}\n    ${p.description}`),
    "",
    "files/\n    The files themselves: every file you uploaded for an attempt (files/submissions/<submission id>/<item id>/...), the ones your saved answers name (submissions.json lists them) and also those you replaced or never saved, and your certificates (files/certificates/<code>.pdf).",
    "manifest.json\n    The list of the files above, how many records each holds, and any file that could not be found.",
    "",
    "Passwords, session tokens and two-factor secrets are never exported: Ringlet keeps passwords and tokens only as one-way hashes.",
    "",
  ].join("\n");

export interface ArchiveInput {
  exportId: string;
  userId: string;
  archiveName: string;
  /** Records per part file, as the part activities counted them. */
  records: Record<string, number>;
  generatedAt: Date;
}

/**
 * Streams the zip to its blob: the README, each staged part, the person's files, then the manifest. One entry
 * at a time, each read from Blob Storage as a stream, so neither the archive nor a file is ever held whole.
 * The staging blobs stay until the export is ready (`discardExportStaging`), so a step retried after this one can write
 * the archive again.
 */
export async function writeArchive(files: BlobFileStore, db: Executor, input: ArchiveInput): Promise<{ files: number; missing: string[] }> {
  // archiver (about 110 modules with its zip streams) loads with the first export, not with the app.
  const { ZipArchive } = await import("archiver");
  const zip = new ZipArchive({ zlib: { level: 6 } });
  const upload = files
    .blobClient(input.archiveName)
    .getBlockBlobClient()
    .uploadStream(zip, UPLOAD_BLOCK_BYTES, UPLOAD_CONCURRENCY, { blobHTTPHeaders: { blobContentType: "application/zip" } });
  // A failed upload stops reading the zip, which would then wait for ever: every wait below also ends on it.
  const broken = new Promise<never>((_, reject) => {
    zip.on("error", reject);
    upload.catch(reject);
  });
  broken.catch(() => undefined);
  const add = async (source: Readable | Buffer | string, name: string) => {
    const added = once(zip, "entry");
    zip.append(source, { name, date: input.generatedAt });
    await Promise.race([added, broken]);
  };

  await add(readme(input.exportId, input.generatedAt), "README.txt");
  for (const part of personalDataParts) {
    const body = (await files.blobClient(stagingName(input.userId, input.exportId, part)).download()).readableStreamBody;
    if (!body) throw new Error(`staged part ${part.file} of export ${input.exportId} has no body`);
    await add(body as Readable, part.file);
  }
  const written: { path: string }[] = [];
  const missing: string[] = [];
  for await (const page of personalFiles(db, input.userId, (prefix) => files.list(prefix))) {
    for (const file of page) {
      const body = await files
        .blobClient(file.blobName)
        .download()
        .then((r) => r.readableStreamBody)
        // An answer whose upload never finished, or a file deleted since: listed as missing, not fatal.
        .catch((err: unknown) => (err instanceof RestError && err.statusCode === 404 ? undefined : Promise.reject(err)));
      if (!body) {
        missing.push(file.archivePath);
        continue;
      }
      await add(body as Readable, file.archivePath);
      written.push({ path: file.archivePath });
    }
  }
  const manifest = {
    exportId: input.exportId,
    userId: input.userId,
    generatedAt: input.generatedAt.toISOString(),
    parts: personalDataParts.map((p) => ({ file: p.file, part: p.name, description: p.description, records: input.records[p.name] ?? 0 })),
    files: written,
    missingFiles: missing,
  };
  await add(JSON.stringify(manifest, null, 2), "manifest.json");
  await Promise.race([zip.finalize(), broken]);
  await Promise.race([upload, broken]);
  return { files: written.length, missing };
}
