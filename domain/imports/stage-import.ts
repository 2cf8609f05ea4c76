import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CsvError, parse } from "csv-parse";
import { and, eq } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { importRows, type ImportRowOutcome, imports } from "../db/schema/index.js";
import type { RowPart } from "./import-kind.js";

/** Why a file cannot be imported, in words for the importer: the import fails with it and applies nothing. */
export class ImportFileRefused extends Error {
  override readonly name = "ImportFileRefused";
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A stream of one part's file (the CSV itself, or one entry of a bundle). */
export type OpenPart = (file: string) => Promise<Readable>;

export interface StageLimits {
  maxLineBytes: number;
  maxRows: number;
  /** Rows per multi-row insert. */
  insertBatch: number;
  /** Told the rows read so far after each insert, so the import shows them while a long file is read. */
  onRowsRead?: (rowsRead: number) => Promise<void>;
}

export interface StagedPart {
  file: string;
  rowsRead: number;
  rowsFailed: number;
  warnings: string[];
}

const INSERT_BATCH_DEFAULT = 500;

const sizeText = (bytes: number) =>
  bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0 ? `${bytes / 1024 ** 2} MB` : bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KB` : `${bytes} bytes`;

class NotUtf8 extends Error {}

/** The import is not staging on this run (it moved on, or another run superseded it): nothing was staged. */
export class ImportNotStaging extends Error {
  override readonly name = "ImportNotStaging";
}

/**
 * Bytes to text: UTF-8 (a BOM dropped), failing on the first byte sequence that is not UTF-8 so the caller can
 * read the file again as Windows-1252; or Windows-1252 (a superset of Latin-1's printable characters).
 */
function decoder(encoding: "utf-8" | "windows-1252"): Transform {
  const text = new TextDecoder(encoding, { fatal: encoding === "utf-8" });
  // A UTF-8 file with a stray non-UTF-8 byte is read again as Windows-1252: its BOM would read as "ï»¿" in the
  // first column's name, so it is dropped here too. Up to 3 bytes are held back until the start is known.
  let head: Buffer | null = encoding === "windows-1252" ? Buffer.alloc(0) : null;
  const withoutBom = (chunk: Buffer, last: boolean): Buffer | null => {
    if (!head) return chunk;
    const start = Buffer.concat([head, chunk]);
    if (start.length < 3 && !last) {
      head = start;
      return null;
    }
    head = null;
    return start[0] === 0xef && start[1] === 0xbb && start[2] === 0xbf ? start.subarray(3) : start;
  };
  return new Transform({
    readableObjectMode: false,
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      try {
        const bytes = withoutBom(chunk, false);
        if (!bytes) return done();
        const s = text.decode(bytes, { stream: true });
        done(null, s.length ? s : undefined);
      } catch {
        done(new NotUtf8());
      }
    },
    flush(done: TransformCallback) {
      try {
        const rest = withoutBom(Buffer.alloc(0), true);
        const s = (rest?.length ? text.decode(rest, { stream: true }) : "") + text.decode();
        done(null, s.length ? s : undefined);
      } catch {
        done(new NotUtf8());
      }
    },
  });
}

// PostgreSQL's jsonb holds no NUL: a refused row keeps its cells with NUL shown as U+FFFD, each cut to what a
// report reader needs (a refused cell may be up to IMPORT_MAX_LINE_BYTES long; batches and reports read these rows
// a few hundred at a time, and the worker's heap is small).
const STORED_CELL_CHARS = 1_000;
const storable = (s: string) => (s.length > STORED_CELL_CHARS ? `${s.slice(0, STORED_CELL_CHARS)}…` : s).replaceAll("\u0000", "\uFFFD");

interface PendingRow {
  importId: string;
  file: string;
  line: number;
  key: string | null;
  data: unknown;
  outcome: ImportRowOutcome | null;
  email: string | null;
}

// The row's address for the erasure's index: the email cell (validated or as written), lower-cased.
const emailOf = (data: unknown): string | null => {
  const v = data && typeof data === "object" ? (data as Record<string, unknown>).email : undefined;
  return typeof v === "string" && v.trim() !== "" ? v.trim().toLowerCase() : null;
};

/**
 * Reads one part's file into import_rows: the header checked (required columns each named when missing, unknown
 * ones listed as a warning), every record validated with the part's schema and its key checked against earlier
 * rows. Rows that fail get their outcome at once; the rest wait for the batches. Anything that makes the file
 * unreadable throws ImportFileRefused. The part's earlier staged rows are deleted first, so a re-run after a crash
 * starts clean.
 */
export async function stagePart(db: Executor, importId: string, run: number, part: RowPart<unknown>, open: OpenPart, limits: Partial<StageLimits> & Omit<StageLimits, "insertBatch">): Promise<StagedPart> {
  try {
    return await stagePartAs(db, importId, run, part, open, limits, "utf-8");
  } catch (err) {
    if (!(err instanceof NotUtf8)) throw err;
    const staged = await stagePartAs(db, importId, run, part, open, limits, "windows-1252");
    return { ...staged, warnings: [`${part.file}: the file is not UTF-8; it was read as Windows-1252 (Latin-1). Save it as "CSV UTF-8" to be sure every character comes through.`, ...staged.warnings] };
  }
}

async function stagePartAs(
  db: Executor,
  importId: string,
  run: number,
  part: RowPart<unknown>,
  open: OpenPart,
  limits: Partial<StageLimits> & Omit<StageLimits, "insertBatch">,
  encoding: "utf-8" | "windows-1252",
): Promise<StagedPart> {
  // Only while this run is staging: a replayed stage step after the import moved on must not drop rows (and the
  // outcomes batches gave them).
  const [staging] = await db
    .select({ id: imports.id })
    .from(imports)
    .where(and(eq(imports.id, importId), eq(imports.run, run), eq(imports.status, "staging")));
  if (!staging) throw new ImportNotStaging();
  await db.delete(importRows).where(and(eq(importRows.importId, importId), eq(importRows.file, part.file)));
  const insertBatch = limits.insertBatch ?? INSERT_BATCH_DEFAULT;
  const known = new Set([...part.requiredColumns, ...part.optionalColumns]);
  const warnings: string[] = [];
  const firstLineOfKey = new Map<string, number>();
  let header: string[] | null = null;
  let line = 1;
  let rowsRead = 0;
  let rowsFailed = 0;
  let pending: PendingRow[] = [];

  const flush = async () => {
    if (pending.length === 0) return;
    const rows = pending;
    pending = [];
    await db.insert(importRows).values(rows).onConflictDoNothing();
    await limits.onRowsRead?.(rowsRead);
  };

  const takeHeader = (cells: string[]) => {
    const names = cells.map((c) => c.trim().toLowerCase());
    const seen = new Set<string>();
    for (const n of names) {
      if (n && seen.has(n)) throw new ImportFileRefused(`${part.file}: the column ${n} appears twice in the header.`);
      seen.add(n);
    }
    const missing = part.requiredColumns.filter((c) => !seen.has(c));
    if (missing.length) {
      throw new ImportFileRefused(
        `${part.file}: the header (line 1) lacks the required column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}; it needs ${part.requiredColumns.join(", ")}${part.optionalColumns.length ? ` and may have ${part.optionalColumns.join(", ")}` : ""}.`,
      );
    }
    const unknown = names.filter((n) => n && !known.has(n));
    if (unknown.length) warnings.push(`${part.file}: unknown column${unknown.length > 1 ? "s" : ""} ignored: ${unknown.join(", ")}.`);
    header = names;
  };

  const takeRecord = (cells: string[], columns: string[]): PendingRow => {
    const raw: Record<string, string> = {};
    for (const c of known) {
      const at = columns.indexOf(c);
      raw[c] = at >= 0 ? (cells[at] ?? "").trim() : "";
    }
    const failed = (reason: string): PendingRow => {
      rowsFailed++;
      const data = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, storable(v)]));
      return { importId, file: part.file, line, key: null, data, outcome: { result: "failed", entity: part.entity, reason }, email: emailOf(data) };
    };
    if (cells.length > columns.length && cells.slice(columns.length).some((c) => c.trim() !== "")) {
      return failed(`the line has ${cells.length} cells; the header has ${columns.length}`);
    }
    const withNul = Object.entries(raw).find(([, v]) => v.includes("\u0000"));
    if (withNul) return failed(`${withNul[0]} holds a NUL character`);
    const parsed = part.schema.safeParse(raw);
    if (!parsed.success) return failed(parsed.error.issues.map((i) => i.message).join("; "));
    const key = part.key(parsed.data);
    const earlier = firstLineOfKey.get(key);
    if (earlier !== undefined) return failed(`duplicate of line ${earlier}`);
    firstLineOfKey.set(key, line);
    return { importId, file: part.file, line, key, data: parsed.data, outcome: null, email: emailOf(parsed.data) };
  };

  const parser = parse({
    trim: false,
    skip_empty_lines: true,
    relax_column_count: true,
    // a quote inside an unquoted cell is kept as written, as spreadsheets read it
    relax_quotes: true,
    max_record_size: limits.maxLineBytes,
    // each record with the file's line it ends on: the line numbers the report gives
    info: true,
  });
  const collect = new Transform({
    objectMode: true,
    transform({ record: cells, info }: { record: string[]; info: { lines: number } }, _enc, done: TransformCallback) {
      try {
        if (!header) {
          takeHeader(cells);
          line = info.lines;
          return done();
        }
        line = info.lines;
        rowsRead++;
        if (rowsRead > limits.maxRows) throw new ImportFileRefused(`${part.file}: the file has more than ${limits.maxRows} rows, the most an import takes; split it.`);
        pending.push(takeRecord(cells, header));
        if (pending.length >= insertBatch) flush().then(() => done(), done);
        else done();
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done: TransformCallback) {
      flush().then(() => done(), done);
    },
  });

  const source = await open(part.file);
  try {
    await pipeline(source, decoder(encoding), parser, collect);
  } catch (err) {
    if (err instanceof ImportFileRefused || err instanceof NotUtf8) throw err;
    if (!(err instanceof CsvError)) throw err;
    const at = typeof err.lines === "number" ? err.lines : line + 1;
    if (err.code === "CSV_MAX_RECORD_SIZE") {
      throw new ImportFileRefused(`${part.file}: line ${at} is longer than ${sizeText(limits.maxLineBytes)}, the longest line an import takes.`);
    }
    throw new ImportFileRefused(`${part.file}: the file is not valid CSV near line ${at} (${err.message.replace(/^[^:]*: /, "")}).`);
  }
  if (!header) throw new ImportFileRefused(`${part.file}: the file is empty; it needs a header line (${part.requiredColumns.join(",")}) and a row per line.`);
  if (rowsRead === 0) throw new ImportFileRefused(`${part.file}: the file has a header but no rows.`);
  return { file: part.file, rowsRead, rowsFailed, warnings };
}
