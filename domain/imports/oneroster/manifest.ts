import { parse } from "csv-parse/sync";

// OneRoster 1.2 CSV Binding, section 3: manifest.csv holds `propertyName,value` rows; each data file's row
// `file.<name>` says whether it is `bulk`, `delta` or `absent`, and `oneroster.version` must be "1.2".

/** The data files Ringlet maps, in the order their parts apply (what a later file refers to comes first). */
export const onerosterFiles = ["orgs.csv", "academicSessions.csv", "courses.csv", "classes.csv", "users.csv", "enrollments.csv"] as const;

export const MANIFEST_FILE = "manifest.csv";

// A manifest has about 25 rows; anything much larger is not one.
export const MANIFEST_MAX_BYTES = 64 * 1024;

export interface ManifestCheck {
  /** Why the bundle is refused, in words for the importer; null when it may be staged. */
  refusal: string | null;
  /** The data files the manifest says are supplied (`bulk` or `delta`), the ones Ringlet does not read included. */
  supplied: string[];
}

/** Checks a bundle's manifest against the files Ringlet needs, and lists the files it says the zip holds. */
export function checkManifest(text: string): ManifestCheck {
  let records: string[][];
  try {
    records = parse(text.replace(/^\uFEFF/, ""), { skip_empty_lines: true, trim: true, relax_column_count: false }) as string[][];
  } catch {
    return { refusal: "manifest.csv is not a valid CSV file", supplied: [] };
  }
  const [header, ...rows] = records;
  if (!header || header[0] !== "propertyName" || header[1] !== "value") {
    return { refusal: "manifest.csv must start with the header propertyName,value", supplied: [] };
  }
  const properties = new Map(rows.map(([name, value]) => [name ?? "", value ?? ""]));
  const version = properties.get("oneroster.version");
  if (version !== "1.2") {
    return { refusal: `only OneRoster 1.2 bundles are supported (the manifest says oneroster.version ${version ?? "is missing"})`, supplied: [] };
  }
  const supplied = [...properties]
    .filter(([name, mode]) => name.startsWith("file.") && (mode === "bulk" || mode === "delta"))
    .map(([name]) => `${name.slice("file.".length)}.csv`);
  for (const file of onerosterFiles) {
    const mode = properties.get(`file.${file.slice(0, -".csv".length)}`);
    if (mode === "delta") return { refusal: `delta bundles are not supported (the manifest says ${file} is delta); send a bulk bundle`, supplied };
    if (mode !== "bulk") return { refusal: `the bundle must supply ${file} (the manifest says ${mode ?? "nothing about it"})`, supplied };
  }
  return { refusal: null, supplied };
}
