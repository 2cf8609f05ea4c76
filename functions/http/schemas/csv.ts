import type { HttpRequest } from "@azure/functions";

/** CSV with format=csv, or Accept: text/csv when no format is named. */
export const wantsCsv = (format: "json" | "csv" | undefined, request: HttpRequest): boolean =>
  format === "csv" || (format === undefined && /\btext\/csv\b/i.test(request.headers.get("accept") ?? ""));
