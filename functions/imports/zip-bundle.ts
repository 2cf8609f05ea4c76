import { PassThrough, type Readable } from "node:stream";
import yauzl, { type Entry, type ZipFile } from "yauzl";
import type { BlobFileStore } from "../platform/file-store.js";
import { settings } from "../platform/settings.js";
import { checkManifest, MANIFEST_FILE, MANIFEST_MAX_BYTES } from "../../domain/imports/oneroster/manifest.js";
import { ImportFileRefused } from "../../domain/imports/stage-import.js";

/**
 * A zip bundle (OneRoster) read where it is stored: the central directory and each entry's bytes come by ranged
 * Blob reads, so the archive is never held whole in memory nor copied to disk. Every read re-checks the bundle:
 * entries only at the top level, not too many, no encryption, and no zip bomb (declared sizes and ratios; yauzl
 * holds each entry to the size its headers declare, since a header can lie). A storage error while reading (a
 * timeout, a 503) is thrown as it is, never as a refusal: the import retries it rather than failing for good.
 */

/**
 * Why a bundle cannot be imported, in words for the importer: the import fails with it (a refused file, also
 * when it is thrown by a part's stream while the pipeline stages it).
 */
export class BundleRefusedError extends ImportFileRefused {}

export interface BundleLimits {
  /** The most all entries together may inflate to. */
  maxUncompressedBytes: number;
  maxEntries: number;
  /** The most an entry may inflate to per compressed byte, once it is past `ratioFloorBytes`. */
  maxRatio: number;
  /** Small entries may compress very well (a header and three rows); the ratio is only checked past this size. */
  ratioFloorBytes: number;
}

/** Bundles hold at most 22 CSV files (OneRoster 1.2, section 2.1); a few more are tolerated, not hundreds. */
export function bundleLimits(maxUncompressedBytes = settings().IMPORT_MAX_UNCOMPRESSED_BYTES): BundleLimits {
  return { maxUncompressedBytes, maxEntries: 32, maxRatio: 100, ratioFloorBytes: 1024 * 1024 };
}

/** Where a zip's bytes come from: its size, and a stream of the bytes in [start, end). */
export interface ZipSource {
  size: number;
  read(start: number, end: number): Readable;
}

export type BundleFiles = Pick<BlobFileStore, "blobClient">;

/** The stored blob as a zip source (null when there is no such blob). */
export async function blobZipSource(files: BundleFiles, blobName: string): Promise<ZipSource | null> {
  const blob = files.blobClient(blobName);
  const exists = await blob.exists();
  if (!exists) return null;
  const size = (await blob.getProperties()).contentLength ?? 0;
  return {
    size,
    read(start, end) {
      const out = new PassThrough();
      blob.download(start, end - start).then(
        (response) => {
          const body = response.readableStreamBody;
          if (!body) return out.destroy(new Error(`blob ${blobName} answered a ranged read without a body`));
          (body as Readable).on("error", (err) => out.destroy(err)).pipe(out);
        },
        (err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))),
      );
      return out;
    },
  };
}

/** Errors the zip source raised (storage, not the archive's format): passed on unwrapped. */
const sourceErrors = new WeakSet<object>();
const fromSource = (err: unknown): Error => {
  const error = err instanceof Error ? err : new Error(String(err));
  sourceErrors.add(error);
  return error;
};
const isSourceError = (err: unknown): boolean => typeof err === "object" && err !== null && sourceErrors.has(err);

// The central directory is read in many small pieces (46 bytes, then a name...): those come from one cached
// window instead of a request each.
const WINDOW_BYTES = 64 * 1024;

class SourceReader extends yauzl.RandomAccessReader {
  private window: { start: number; bytes: Buffer } | null = null;

  constructor(private readonly source: ZipSource) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    if (end - start > WINDOW_BYTES) {
      const out = new PassThrough();
      this.source
        .read(start, end)
        .on("error", (err) => out.destroy(fromSource(err)))
        .pipe(out);
      return out;
    }
    const out = new PassThrough();
    this.windowFor(start, end).then(
      (w) => out.end(w.bytes.subarray(start - w.start, end - w.start)),
      (err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))),
    );
    return out;
  }

  private async windowFor(start: number, end: number) {
    const w = this.window;
    if (w && start >= w.start && end <= w.start + w.bytes.length) return w;
    const windowEnd = Math.min(this.source.size, Math.max(end, start + WINDOW_BYTES));
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of this.source.read(start, windowEnd)) chunks.push(chunk as Buffer);
    } catch (err) {
      throw fromSource(err);
    }
    const next = { start, bytes: Buffer.concat(chunks) };
    if (next.bytes.length < end - start) throw new Error("the zip ended before a range it names");
    this.window = next;
    return next;
  }
}

async function openZip(source: ZipSource): Promise<ZipFile> {
  try {
    return await yauzl.fromRandomAccessReaderPromise(new SourceReader(source), source.size, { autoClose: false, strictFileNames: true, decodeStrings: true, validateEntrySizes: true });
  } catch (err) {
    if (isSourceError(err)) throw err;
    throw new BundleRefusedError(`the file is not a readable zip archive (${(err as Error).message})`);
  }
}

/** Reads every entry of the central directory, refusing what no bundle may hold. */
async function checkedEntries(zip: ZipFile, limits: BundleLimits): Promise<Map<string, Entry>> {
  if (zip.entryCount > limits.maxEntries) {
    throw new BundleRefusedError(`the zip holds ${zip.entryCount} entries; a bundle has at most ${limits.maxEntries} files`);
  }
  const entries = new Map<string, Entry>();
  let declared = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      const name = entry.fileName;
      if (name.includes("/")) {
        throw new BundleRefusedError(`the bundle's files must be at the top of the zip, not in folders (found ${name})`);
      }
      if (entries.has(name)) throw new BundleRefusedError(`the zip holds ${name} twice`);
      if (entry.isEncrypted()) throw new BundleRefusedError(`${name} is encrypted`);
      if (!entry.canDecodeFileData()) throw new BundleRefusedError(`${name} uses a compression method other than deflate`);
      declared += entry.uncompressedSize;
      if (declared > limits.maxUncompressedBytes) throw tooLarge(limits);
      if (entry.uncompressedSize > limits.ratioFloorBytes && entry.uncompressedSize > entry.compressedSize * limits.maxRatio) {
        throw compressedTooWell(name, limits);
      }
      entries.set(name, entry);
    }
  } catch (err) {
    if (err instanceof BundleRefusedError || isSourceError(err)) throw err;
    throw new BundleRefusedError(`the zip's directory is damaged (${(err as Error).message})`);
  }
  return entries;
}

const tooLarge = (limits: BundleLimits) =>
  new BundleRefusedError(`the bundle inflates to more than ${limits.maxUncompressedBytes} bytes (a zip bomb?)`);
const compressedTooWell = (name: string, limits: BundleLimits) =>
  new BundleRefusedError(`${name} inflates more than ${limits.maxRatio} times its compressed size (a zip bomb?)`);

/**
 * An entry's bytes as they inflate. yauzl stops an entry the moment it inflates past the size its headers declare
 * (validateEntrySizes), and those sizes passed the bundle's limits, so the limits hold for the bytes read too.
 */
async function openEntry(zip: ZipFile, entry: Entry): Promise<Readable> {
  const raw = await zip.openReadStreamPromise(entry);
  const out = new PassThrough();
  raw.on("error", (err) => {
    if (isSourceError(err)) return out.destroy(err);
    const lie = /^too many bytes in the stream/.test(err.message);
    out.destroy(new BundleRefusedError(lie ? `${entry.fileName} inflates past the size its header declares (a zip bomb?)` : `${entry.fileName} cannot be inflated (${err.message})`));
  });
  return raw.pipe(out);
}

async function textOf(stream: Readable, maxBytes: number, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      stream.destroy();
      throw new BundleRefusedError(`${name} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Opens a OneRoster bundle and checks it whole before any of it is read: a zip, every entry at its top level and
 * within the limits, a 1.2 bulk manifest supplying each file Ringlet reads, and every file the manifest lists
 * present. Throws a `BundleRefusedError`; the caller closes the zip it returns.
 */
async function openCheckedBundle(source: ZipSource, limits: BundleLimits): Promise<{ zip: ZipFile; entries: Map<string, Entry> }> {
  const zip = await openZip(source);
  try {
    const entries = await checkedEntries(zip, limits);
    const manifestEntry = entries.get(MANIFEST_FILE);
    if (!manifestEntry) throw new BundleRefusedError("the bundle has no manifest.csv");
    const manifest = checkManifest(await textOf(await openEntry(zip, manifestEntry), MANIFEST_MAX_BYTES, MANIFEST_FILE));
    if (manifest.refusal) throw new BundleRefusedError(manifest.refusal);
    const missing = manifest.supplied.filter((file) => !entries.has(file));
    if (missing.length > 0) throw new BundleRefusedError(`the bundle has no ${missing.join(", ")} (the manifest lists ${missing.length === 1 ? "it" : "them"})`);
    return { zip, entries };
  } catch (err) {
    zip.close();
    throw err;
  }
}

/** Checks a stored bundle (see `openCheckedBundle`): the refusal's reason, or null when it may be staged. */
export async function checkBundle(files: BundleFiles, blobName: string, limits: BundleLimits = bundleLimits()): Promise<string | null> {
  const source = await blobZipSource(files, blobName);
  if (!source) return "nothing was uploaded";
  return checkZip(source, limits);
}

/** `checkBundle` over any zip source. */
export async function checkZip(source: ZipSource, limits: BundleLimits): Promise<string | null> {
  try {
    (await openCheckedBundle(source, limits)).zip.close();
    return null;
  } catch (err) {
    if (err instanceof BundleRefusedError) return err.reason;
    throw err;
  }
}

/**
 * One file of a checked bundle, inflating as it is read. Opening it refuses a bundle `checkBundle` refuses; the
 * stream fails with a `BundleRefusedError` when the file breaks a limit while inflating.
 */
export async function openBundlePart(files: BundleFiles, blobName: string, file: string, limits: BundleLimits = bundleLimits()): Promise<Readable> {
  const source = await blobZipSource(files, blobName);
  if (!source) throw new BundleRefusedError("nothing was uploaded");
  return openZipPart(source, file, limits);
}

/** `openBundlePart` over any zip source. */
export async function openZipPart(source: ZipSource, file: string, limits: BundleLimits): Promise<Readable> {
  const { zip, entries } = await openCheckedBundle(source, limits);
  try {
    const entry = entries.get(file);
    if (!entry) throw new BundleRefusedError(`the bundle has no ${file}`);
    const stream = await openEntry(zip, entry);
    stream.on("close", () => zip.close());
    return stream;
  } catch (err) {
    zip.close();
    throw err;
  }
}
