import { z } from "zod";
import type { RosterEntity } from "../../db/schema/index.js";
import type { RowOutcome, RowPart } from "../import-kind.js";
import { columnsOf, guid, optionalGuid, refusedForCourseStaff, skipDeleted, status, text } from "./columns.js";
import { linkSources, sourcesOf } from "./sources.js";

// Orgs and academic sessions have no Ringlet record: they are recorded as sources (with their name), so classes
// and courses naming a school or a term can be checked against them.

export interface RecordedRow {
  sourcedId: string;
  status: "" | "active" | "tobedeleted";
  name: string;
  parentSourcedId: string | null;
}

function recordedSourcePart(options: {
  file: string;
  entity: RosterEntity;
  nameColumn: string;
  requiredColumns: readonly string[];
  optionalColumns: readonly string[];
  extra: z.ZodRawShape;
}): RowPart<RecordedRow> {
  const { file, entity, nameColumn } = options;
  // The pipeline hands each record keyed by its lower-cased header; messages name the spec's columns.
  const schema = z
    .object({
      sourcedid: guid("sourcedId"),
      status,
      [nameColumn.toLowerCase()]: text(nameColumn),
      parentsourcedid: optionalGuid("parentSourcedId"),
      ...options.extra,
    })
    .transform((r) => ({
      sourcedId: r.sourcedid as string,
      status: r.status as RecordedRow["status"],
      name: r[nameColumn.toLowerCase()] as string,
      parentSourcedId: r.parentsourcedid as string | null,
    }));
  return {
    file,
    entity,
    requiredColumns: columnsOf(options.requiredColumns),
    optionalColumns: columnsOf(options.optionalColumns),
    schema,
    key: (row) => row.sourcedId,
    async apply(ctx, run, rows) {
      const refused = refusedForCourseStaff(run, entity, rows);
      if (refused) return refused;
      const known = await sourcesOf(ctx.db, entity, rows.map((r) => r.row.sourcedId));
      const links: { sourcedId: string; entityId: string; name: string }[] = [];
      const outcomes = rows.map(({ row }): RowOutcome => {
        if (row.status === "tobedeleted") return skipDeleted(entity);
        const source = known.get(row.sourcedId);
        if (source && source.name === row.name) return { result: "unchanged", entity };
        links.push({ sourcedId: row.sourcedId, entityId: source?.entityId ?? ctx.newId(), name: row.name });
        return { result: source ? "updated" : "created", entity };
      });
      if (!run.dryRun) await linkSources(ctx, entity, links);
      return outcomes;
    },
  };
}

/** orgs.csv (OneRoster 1.2 CSV Binding, section 3): sourcedId, status, dateLastModified, name, type, identifier, parentSourcedId. */
export const orgsPart = recordedSourcePart({
  file: "orgs.csv",
  entity: "org",
  nameColumn: "name",
  requiredColumns: ["sourcedId", "name", "type"],
  optionalColumns: ["status", "dateLastModified", "identifier", "parentSourcedId"],
  // "This vocabulary may be extended": any type is accepted.
  extra: { type: text("type") },
});

/**
 * academicSessions.csv (OneRoster 1.2 CSV Binding, section 3): sourcedId, status, dateLastModified, title, type, startDate, endDate,
 * parentSourcedId, schoolYear.
 */
export const academicSessionsPart = recordedSourcePart({
  file: "academicSessions.csv",
  entity: "academic-session",
  nameColumn: "title",
  requiredColumns: ["sourcedId", "title", "type", "startDate", "endDate", "schoolYear"],
  optionalColumns: ["status", "dateLastModified", "parentSourcedId"],
  extra: {
    type: text("type"),
    startdate: z.iso.date({ error: "startDate must be a date (YYYY-MM-DD)" }),
    enddate: z.iso.date({ error: "endDate must be a date (YYYY-MM-DD)" }),
    schoolyear: z.string().regex(/^\d{4}$/, { error: "schoolYear must be a year (YYYY)" }),
  },
});

