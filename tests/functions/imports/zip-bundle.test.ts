import { Readable } from "node:stream";
import { zipSync, type Zippable } from "fflate";
import { describe, expect, it } from "vitest";
import { type BundleLimits, BundleRefusedError, checkZip, openZipPart, type ZipSource } from "../../../functions/imports/zip-bundle.js";

const limits: BundleLimits = { maxUncompressedBytes: 8 * 1024 * 1024, maxEntries: 32, maxRatio: 100, ratioFloorBytes: 1024 * 1024 };

/** A zip held in memory, read by ranges as the Blob source reads it; counts the reads. */
function memorySource(bytes: Uint8Array) {
  const source = {
    reads: 0,
    size: bytes.length,
    read(start: number, end: number) {
      source.reads++;
      return Readable.from([Buffer.from(bytes.subarray(start, end))]);
    },
  };
  return source satisfies ZipSource;
}

const manifest = [
  "propertyName,value",
  "manifest.version,1.0",
  "oneroster.version,1.2",
  ...["academicSessions", "classes", "courses", "enrollments", "orgs", "users"].map((f) => `file.${f},bulk`),
  "file.categories,absent",
  "source.systemName,Test SIS",
].join("\n");

const text = (s: string) => new TextEncoder().encode(s);
const dataFiles = (): Zippable =>
  Object.fromEntries(["academicSessions", "classes", "courses", "enrollments", "orgs", "users"].map((f) => [`${f}.csv`, text("sourcedId\nx\n")]));

async function readAll(stream: Readable) {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Sets the uncompressed size both headers of one entry declare (a lying header). */
function lieAboutSize(zip: Uint8Array, name: string, declared: number): Uint8Array {
  const out = Buffer.from(zip);
  for (let i = 0; i + 46 <= out.length; i++) {
    const signature = out.readUInt32LE(i);
    if (signature === 0x02014b50 && out.toString("utf8", i + 46, i + 46 + out.readUInt16LE(i + 28)) === name) out.writeUInt32LE(declared, i + 24);
    if (signature === 0x04034b50 && out.toString("utf8", i + 30, i + 30 + out.readUInt16LE(i + 26)) === name) out.writeUInt32LE(declared, i + 22);
  }
  return out;
}

describe("zip bundles", () => {
  it("accepts a 1.2 bulk bundle and streams one of its files, reading the directory in few requests", async () => {
    const source = memorySource(zipSync({ "manifest.csv": text(manifest), ...dataFiles() }));
    expect(await checkZip(source, limits)).toBeNull();
    expect(await readAll(await openZipPart(source, "users.csv", limits))).toBe("sourcedId\nx\n");
    expect(source.reads).toBeLessThan(12);
  });

  it("refuses a file that is not a zip", async () => {
    expect(await checkZip(memorySource(text("sourcedId,name\n1,a\n")), limits)).toMatch(/^the file is not a readable zip archive/);
  });

  it("refuses a bundle without a manifest, without users.csv, or with a delta or 1.1 manifest", async () => {
    expect(await checkZip(memorySource(zipSync(dataFiles())), limits)).toBe("the bundle has no manifest.csv");
    const { "users.csv": _users, ...withoutUsers } = dataFiles();
    expect(await checkZip(memorySource(zipSync({ "manifest.csv": text(manifest), ...withoutUsers })), limits)).toBe(
      "the bundle has no users.csv (the manifest lists it)",
    );
    const absent = manifest.replace("file.users,bulk", "file.users,absent");
    expect(await checkZip(memorySource(zipSync({ "manifest.csv": text(absent), ...dataFiles() })), limits)).toBe(
      "the bundle must supply users.csv (the manifest says absent)",
    );
    const delta = manifest.replace("file.enrollments,bulk", "file.enrollments,delta");
    expect(await checkZip(memorySource(zipSync({ "manifest.csv": text(delta), ...dataFiles() })), limits)).toMatch(/^delta bundles are not supported/);
    const old = manifest.replace("oneroster.version,1.2", "oneroster.version,1.1");
    expect(await checkZip(memorySource(zipSync({ "manifest.csv": text(old), ...dataFiles() })), limits)).toMatch(/only OneRoster 1.2 bundles/);
  });

  it("refuses files in folders and too many entries", async () => {
    const nested = memorySource(zipSync({ roster: { "manifest.csv": text(manifest), ...dataFiles() } }));
    expect(await checkZip(nested, limits)).toMatch(/at the top of the zip, not in folders \(found roster\/\)/);
    const many: Zippable = { "manifest.csv": text(manifest), ...dataFiles() };
    for (let i = 0; i < 40; i++) many[`extra${i}.csv`] = text("a\n");
    expect(await checkZip(memorySource(zipSync(many)), limits)).toBe("the zip holds 47 entries; a bundle has at most 32 files");
  });

  it("refuses a zip bomb by its declared sizes, and one whose header lies while it inflates", async () => {
    const zeros = new Uint8Array(4 * 1024 * 1024);
    const bomb = memorySource(zipSync({ "manifest.csv": text(manifest), ...dataFiles(), "users.csv": zeros }, { level: 9 }));
    expect(await checkZip(bomb, limits)).toMatch(/users\.csv inflates more than 100 times its compressed size/);
    const big = memorySource(zipSync({ "manifest.csv": text(manifest), ...dataFiles(), "users.csv": zeros, "orgs.csv": zeros }, { level: 0 }));
    expect(await checkZip(big, { ...limits, maxUncompressedBytes: 6 * 1024 * 1024 })).toMatch(/inflates to more than 6291456 bytes/);

    // The headers claim users.csv is 100 bytes: the directory passes, inflating it does not.
    const liar = memorySource(lieAboutSize(zipSync({ "manifest.csv": text(manifest), ...dataFiles(), "users.csv": zeros }, { level: 9 }), "users.csv", 100));
    const stream = await openZipPart(liar, "users.csv", limits);
    const refused = await readAll(stream).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(BundleRefusedError);
    expect((refused as BundleRefusedError).reason).toBe("users.csv inflates past the size its header declares (a zip bomb?)");
  });

  it("passes a storage error on as it is (the import retries it), never as a refusal", async () => {
    class StorageDown extends Error {}
    const zip = zipSync({ "manifest.csv": text(manifest), ...dataFiles(), "users.csv": new Uint8Array(100_000).fill(65) }, { level: 0 });
    const down = new StorageDown("503 Service Unavailable");
    const failing = (when: (start: number, end: number) => boolean) => {
      const ok = memorySource(zip);
      return { size: ok.size, read: (start: number, end: number) => (when(start, end) ? new Readable({ read() { this.destroy(down); } }) : ok.read(start, end)) } satisfies ZipSource;
    };
    // The directory cannot be read.
    await expect(checkZip(failing(() => true), limits)).rejects.toBe(down);
    // The directory reads (the end of the zip), the entry's bytes (one ranged read past the 64 KiB window) do not.
    const stream = await openZipPart(failing((start, end) => end - start > 64 * 1024 && start < zip.length - 66_000), "users.csv", limits);
    await expect(readAll(stream)).rejects.toBe(down);
  });
});
