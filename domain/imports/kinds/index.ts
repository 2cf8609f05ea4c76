import type { ImportKindName, RowPart } from "../import-kind.js";
import { onerosterParts } from "../oneroster/index.js";
import { enrollmentsPart } from "./enrollments.js";
import { sectionsPart } from "./sections.js";
import { usersPart } from "./users.js";

/**
 * The kinds an import can be started as, each the parts (files) applied in order. A kind whose module has not
 * landed is absent: starting it answers IMPORT_KIND_UNAVAILABLE. Each kind's owner adds its line.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each part has its own row type
export const importKinds: Partial<Record<ImportKindName, readonly RowPart<any>[]>> = {
  users: [usersPart],
  enrollments: [enrollmentsPart],
  sections: [sectionsPart],
  oneroster: onerosterParts,
};

/** The parts of a kind, or null when the kind is not available. */
export function importKind(name: string): readonly RowPart<unknown>[] | null {
  return (importKinds as Record<string, readonly RowPart<unknown>[] | undefined>)[name] ?? null;
}
