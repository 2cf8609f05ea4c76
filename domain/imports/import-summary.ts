import { eq } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { imports } from "../db/schema/index.js";
import type { CatalogEvent } from "../events/catalog.js";

// The few words of the summary email that depend on the run, in the template's languages (English otherwise).
const words = {
  en: { completed: "completed", cancelled: "was cancelled", dry: "trial (dry run) ", real: "", none: "Nothing was counted.", results: { created: "created", updated: "updated", unchanged: "unchanged", failed: "failed", skipped: "skipped" } },
  es: { completed: "ha terminado", cancelled: "se ha cancelado", dry: "de prueba (sin cambios) ", real: "", none: "No se contó nada.", results: { created: "creados", updated: "actualizados", unchanged: "sin cambios", failed: "con errores", skipped: "omitidos" } },
} as const;

const wordsFor = (locale: string) => (locale.toLowerCase().startsWith("es") ? words.es : words.en);

/** The values of the import-completed and import-failed emails, in the recipient's language. */
export async function importEmailValues(db: Executor, event: CatalogEvent<"import.completed" | "import.failed">, locale: string): Promise<Record<string, string>> {
  const w = wordsFor(locale);
  const d = event.data;
  const [row] = await db.select({ fileName: imports.fileName }).from(imports).where(eq(imports.id, d.importId));
  const common = {
    importId: d.importId,
    kind: d.kind,
    fileName: row?.fileName ?? "your file",
    run: d.dryRun ? w.dry : w.real,
    finishedAt: new Date(d.finishedAt).toUTCString(),
    applied: String(d.rowsApplied),
    read: String(d.rowsRead),
  };
  if (event.type === "import.failed") return { ...common, reason: event.data.reason };
  const c = event.data;
  const lines = Object.entries(c.counts).map(
    ([entity, n]) => `${entity}: ${(Object.keys(w.results) as (keyof typeof w.results)[]).map((k) => `${n[k]} ${w.results[k]}`).join(", ")}`,
  );
  return { ...common, outcome: w[c.status], failed: String(c.rowsFailed), skipped: String(c.rowsSkipped), summary: lines.length ? lines.join("; ") + "." : w.none };
}
