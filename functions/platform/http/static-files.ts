import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants as zlib, gzip } from "node:zlib";

/**
 * The built web app's files, read from one directory (Vite's `dist/web`): resolution of a URL path to a file,
 * content types, ETags and compressed copies. Each file is read and compressed once and kept in memory; a changed
 * size or mtime (a rebuild while `npm start` runs) reads it again.
 */

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".xml": "application/xml; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".wasm": "application/wasm",
};
// Already-compressed formats (images but SVG and ICO, fonts but TTF) gain nothing from a second pass.
const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".json", ".map", ".webmanifest", ".txt", ".xml", ".svg", ".ico", ".ttf", ".wasm"]);
// Below this a compressed body saves less than its headers cost.
const MIN_COMPRESS_BYTES = 512;

export type Encoding = "br" | "gzip";

export interface StaticFile {
  contentType: string;
  /** Strong ETag of the content; each encoding's copy has its own (RFC 9110: a strong tag names one representation). */
  etag: string;
  body: Buffer;
  encoded: Partial<Record<Encoding, Buffer>>;
}

/** A path the resolver refuses: encoded separators, NUL, backslashes, dot segments. */
export class UnsafePathError extends Error {}

/**
 * The URL path's segments, percent-decoded, or UnsafePathError. The URL parser has already removed `.`/`..` and
 * `%2e%2e` segments; what remains to refuse is what decoding could turn into a separator or a dot segment.
 */
export function pathSegments(pathname: string): string[] {
  const segments: string[] = [];
  for (const raw of pathname.split("/")) {
    if (raw === "") continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw new UnsafePathError("malformed percent-encoding");
    }
    if (segment === "." || segment === ".." || /[/\\\0]/.test(segment) || /^[a-z]:/i.test(segment)) throw new UnsafePathError(`unsafe segment "${raw}"`);
    segments.push(segment);
  }
  return segments;
}

export const contentTypeOf = (name: string): string => TYPES[extname(name).toLowerCase()] ?? "application/octet-stream";

/** The encoding to send for an Accept-Encoding header: br before gzip, none when neither is acceptable. */
export function chooseEncoding(acceptEncoding: string | null, available: Partial<Record<Encoding, Buffer>>): Encoding | undefined {
  if (!acceptEncoding) return undefined;
  const accepted = new Map<string, number>();
  for (const part of acceptEncoding.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
    if (name) accepted.set(name.trim(), q === undefined ? 1 : Number(q));
  }
  const wants = (e: Encoding) => (accepted.get(e) ?? accepted.get("*") ?? 0) > 0;
  return (["br", "gzip"] as const).find((e) => available[e] && wants(e));
}

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

async function compressed(name: string, body: Buffer): Promise<Partial<Record<Encoding, Buffer>>> {
  if (!COMPRESSIBLE.has(extname(name).toLowerCase()) || body.length < MIN_COMPRESS_BYTES) return {};
  const [br, gz] = await Promise.all([
    brotli(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }),
    gzipAsync(body, { level: 9 }),
  ]);
  return { ...(br.length < body.length ? { br } : {}), ...(gz.length < body.length ? { gzip: gz } : {}) };
}

export interface StaticFiles {
  readonly root: string;
  /** The file at these segments under the root, or null when there is none (or it is a directory). */
  file(segments: readonly string[]): Promise<StaticFile | null>;
}

export function createStaticFiles(root: string): StaticFiles {
  const cache = new Map<string, { version: string; file: Promise<StaticFile> }>();

  async function load(path: string, name: string): Promise<StaticFile> {
    const body = await readFile(path);
    const hash = createHash("sha256").update(body).digest("base64url").slice(0, 22);
    return { contentType: contentTypeOf(name), etag: hash, body, encoded: await compressed(name, body) };
  }

  return {
    root,
    async file(segments) {
      // Segments come from pathSegments: no separators or dot segments, so the path stays under the root.
      const path = join(root, ...segments);
      const info = await stat(path).catch(() => null);
      if (!info?.isFile()) return null;
      const version = `${info.size}:${info.mtimeMs}`;
      let entry = cache.get(path);
      if (entry?.version !== version) {
        entry = { version, file: load(path, segments.at(-1) ?? "") };
        cache.set(path, entry);
        // A failed read is not kept: the next request tries again.
        entry.file.catch(() => cache.delete(path));
      }
      return entry.file;
    },
  };
}
