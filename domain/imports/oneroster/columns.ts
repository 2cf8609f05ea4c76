import { z } from "zod";
import type { ImportRun, RowOutcome, StagedRow } from "../import-kind.js";

// Cell formats of the OneRoster 1.2 CSV Binding (section 3): GUIDs, statuses, lists. Its required and optional
// columns per file are listed with each part; a bundle's columns are matched by name, so an extension column at
// the right is only warned about.

// "GUID": fewer than 256 characters among 0-9 a-z A-Z . - _ / @
export const guid = (column: string) =>
  z.string().regex(/^[0-9A-Za-z._/@-]{1,255}$/, { error: `${column} must be 1–255 letters, digits or . - _ / @` });

export const optionalGuid = (column: string) => z.union([z.literal(""), guid(column)]).transform((v) => (v === "" ? null : v));

/** "List of GUID References": comma-separated in one (quoted) cell. */
export const guidList = (column: string) =>
  z
    .string()
    .transform((v) => v.split(",").map((s) => s.trim()).filter((s) => s.length > 0))
    .pipe(z.array(guid(column)));

// Bulk files leave status empty; a delta row's `tobedeleted` is skipped (an import never deletes).
export const status = z.enum(["", "active", "tobedeleted"], { error: "status must be empty, active or tobedeleted" });

export const text = (column: string, max = 255) =>
  z
    .string()
    .min(1, { error: `${column} is required` })
    .max(max, { error: `${column} is longer than ${max} characters` })
    // eslint-disable-next-line no-control-regex
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), { error: `${column} holds a control character` });

export const optionalText = (column: string, max = 255) => z.union([z.literal(""), text(column, max)]).transform((v) => (v === "" ? null : v));

/** The pipeline matches headers lower-cased (OneRoster's are camelCase): a part declares its columns so. */
export const columnsOf = (names: readonly string[]): string[] => names.map((n) => n.toLowerCase());

const onlyForAdministrators: RowOutcome = { result: "failed", entity: "", reason: "a OneRoster bundle can only be imported by an administrator" };

/** Course staff's imports touch one course; a bundle names any number, so it is an administrator's import. */
export function refusedForCourseStaff(run: ImportRun, entity: string, rows: readonly StagedRow<unknown>[]): RowOutcome[] | null {
  return run.courseId === null ? null : rows.map(() => ({ ...onlyForAdministrators, entity }));
}

export const skipDeleted = (entity: string): RowOutcome => ({
  result: "skipped",
  entity,
  reason: "status is tobedeleted: an import does not delete records",
});
