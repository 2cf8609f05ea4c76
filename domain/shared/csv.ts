// CSV as every export writes it (RFC 4180, CRLF line ends), with cells neutralised against formula injection.

const formulaLead = /^[=+\-@\t\r]/;
const plainNumber = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * One cell: a text cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` so a spreadsheet shows it
 * rather than evaluating it (OWASP CSV injection); plain numbers (negative ones too) are left alone. Quoted when
 * it holds a quote, comma or line break.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  const safe = typeof value === "string" && formulaLead.test(text) && !plainNumber.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * The value csvCell neutralised, back: one leading `'` dropped when what follows is one csvCell would have
 * prefixed. What imports read from our own exports (roster.csv) so a value starting with `-` or `@` round-trips.
 */
export function csvCellValue(cell: string): string {
  const rest = cell.slice(1);
  return cell.startsWith("'") && formulaLead.test(rest) && !plainNumber.test(rest) ? rest : cell;
}

/** One CSV line (with its CRLF) from its cells. */
export function csvRow(cells: readonly (string | number | boolean | null | undefined)[]): string {
  return cells.map(csvCell).join(",") + "\r\n";
}
