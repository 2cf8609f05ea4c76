import { PassThrough } from "node:stream";
import yauzl, { type Entry, type ZipFile } from "yauzl";
import type { QtiFile } from "../../domain/banks/qti/qti-import.js";
import { ProblemError } from "../platform/http/problem.js";

/** Limits on an uploaded package: what its entries may inflate to, how many there are, and each one's size. */
export interface PackageLimits {
  maxEntries: number;
  maxUncompressedBytes: number;
  maxEntryBytes: number;
}

const refused = (detail: string) => new ProblemError("QTI_INVALID", { detail });
const tooLarge = (detail: string) => new ProblemError("BANK_IMPORT_TOO_LARGE", { detail });

/** True when the bytes are a zip archive (local file header signature). */
export const isZip = (bytes: Buffer): boolean => bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50;

// Invalid bytes are refused rather than replaced: an item must say what its author wrote.
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeText(bytes: Buffer, file: string, code: "QTI_INVALID" | "BANK_IMPORT_INVALID" = "QTI_INVALID"): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProblemError(code, { detail: `${file}: the file is not UTF-8 text.` });
  }
}

/**
 * The XML files of a content package held in memory (the request body, already capped). Refused before anything
 * inflates: too many entries, declared sizes over the limits, encrypted entries; while inflating, yauzl holds each
 * entry to its declared size (a header that lies is an error), so a zip bomb stops at the limit.
 */
export async function packageFiles(bytes: Buffer, limits: PackageLimits): Promise<QtiFile[]> {
  const zip = await new Promise<ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(bytes, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false }, (err, z) => (err || !z ? reject(refused(`The package is not a readable zip: ${err?.message ?? "no archive"}.`)) : resolve(z))),
  );
  if (zip.entryCount > limits.maxEntries) {
    zip.close();
    throw tooLarge(`A package holds at most ${limits.maxEntries} files; this one holds ${zip.entryCount}.`);
  }
  const files: QtiFile[] = [];
  let total = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on("error", (err: Error) => reject(err instanceof ProblemError ? err : refused(`The package is not a readable zip: ${err.message}.`)));
      zip.on("end", () => resolve());
      zip.on("entry", (entry: Entry) => {
        if (entry.fileName.endsWith("/") || !entry.fileName.toLowerCase().endsWith(".xml")) return zip.readEntry();
        if (entry.isEncrypted()) return reject(refused(`${entry.fileName}: encrypted entries are not read.`));
        total += entry.uncompressedSize;
        if (entry.uncompressedSize > limits.maxEntryBytes) return reject(tooLarge(`${entry.fileName}: a file inflates to at most ${limits.maxEntryBytes} bytes.`));
        if (total > limits.maxUncompressedBytes) return reject(tooLarge(`The package inflates to more than ${limits.maxUncompressedBytes} bytes.`));
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(refused(`${entry.fileName}: ${err?.message ?? "unreadable"}.`));
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("error", (e: Error) => reject(refused(`${entry.fileName}: ${e.message}.`)));
          stream.on("end", () => {
            try {
              files.push({ path: entry.fileName.replace(/^\.\//, ""), text: decodeText(Buffer.concat(chunks), entry.fileName) });
              zip.readEntry();
            } catch (e) {
              reject(e as Error);
            }
          });
        });
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return files;
}

/** A zip of the given files (deflated), in memory: packages are small text files. */
export async function zipOf(files: { path: string; content: string }[]): Promise<Buffer> {
  // archiver loads with the first export, not with the app.
  const { ZipArchive } = await import("archiver");
  const archive = new ZipArchive({ zlib: { level: 9 } });
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    out.on("end", resolve);
    archive.on("error", reject);
  });
  archive.pipe(out);
  for (const f of files) archive.append(f.content, { name: f.path });
  await archive.finalize();
  await done;
  return Buffer.concat(chunks);
}
