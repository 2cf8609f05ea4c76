import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client.js";
import { courses, importRows, type ImportRowOutcome, rosterSources, type RosterEntity, sections, users } from "../../db/schema/index.js";
import type { DomainContext } from "../../shared/context.js";

// What a bundle's sourcedIds stand for in Ringlet (roster_sources), and what an earlier part of the same
// bundle staged (import_rows), read a batch at a time.

export interface Source {
  entityId: string;
  name: string | null;
}

// A row whose user, course or section was deleted since is ignored (and replaced when that sourcedId comes again).
const stillThere: Partial<Record<RosterEntity, ReturnType<typeof sql>>> = {
  user: sql`and exists (select 1 from ${users} u where u.id = rs.entity_id and u.erased_at is null)`,
  course: sql`and exists (select 1 from ${courses} c where c.id = rs.entity_id)`,
  section: sql`and exists (select 1 from ${sections} s where s.id = rs.entity_id)`,
};

// The batch's values are joined as a set (unnest) rather than filtered with `= any(...)`: a plan the driver
// cached while the table was small stays index lookups when it has grown to a term's roster.

/** The records these sourcedIds were imported as, by sourcedId. */
export async function sourcesOf(db: Executor, entity: RosterEntity, sourcedIds: readonly string[]): Promise<Map<string, Source>> {
  if (sourcedIds.length === 0) return new Map();
  const rows = await db.execute<{ sourced_id: string; entity_id: string; name: string | null }>(sql`
    select rs.sourced_id, rs.entity_id, rs.name
    from unnest(${sql.param([...new Set(sourcedIds)])}::text[]) as v(sourced_id)
    join ${rosterSources} rs on rs.entity = ${entity} and rs.sourced_id = v.sourced_id
    where true ${stillThere[entity] ?? sql``}`);
  return new Map(rows.map((r) => [r.sourced_id, { entityId: r.entity_id, name: r.name }]));
}

/** The sourcedIds these records were imported under, by record id. */
export async function sourcedIdsOf(db: Executor, entity: RosterEntity, entityIds: readonly string[]): Promise<Map<string, string>> {
  if (entityIds.length === 0) return new Map();
  const rows = await db.execute<{ sourced_id: string; entity_id: string }>(sql`
    select rs.sourced_id, rs.entity_id
    from unnest(${sql.param([...new Set(entityIds)])}::uuid[]) as v(entity_id)
    join ${rosterSources} rs on rs.entity = ${entity} and rs.entity_id = v.entity_id`);
  return new Map(rows.map((r) => [r.entity_id, r.sourced_id]));
}

/**
 * Two imports of one bundle at once would each create the records of the same sourcedIds: a batch takes a
 * transaction-scoped lock on each of its sourcedIds (in one order, so batches cannot deadlock) before it reads them.
 */
export async function lockSourcedIds(ctx: DomainContext, entity: RosterEntity, sourcedIds: readonly string[]): Promise<void> {
  if (sourcedIds.length === 0) return;
  await ctx.db.execute(sql`
    select pg_advisory_xact_lock(hashtextextended(${`roster:${entity}:`} || id, 0))
    from unnest(${sql.param([...new Set(sourcedIds)].sort())}::text[]) as id order by id`);
}

export interface Link {
  sourcedId: string;
  entityId: string;
  name?: string | null;
}

/**
 * A batch's new links, kept with the records' current sourcedIds (`linkedTo`, by record id): what the batch linked
 * so far counts as well, so two rows cannot both take one record; `unlink` takes back the last link.
 */
export function batchLinks(linkedTo: Map<string, string>) {
  const links: Link[] = [];
  return {
    links,
    linkedTo,
    link(sourcedId: string, entityId: string) {
      links.push({ sourcedId, entityId });
      linkedTo.set(entityId, sourcedId);
    },
    unlink() {
      const last = links.pop();
      if (last) linkedTo.delete(last.entityId);
    },
  };
}

/**
 * Records (or moves) the links of one batch in one statement. A sourcedId whose record was deleted is pointed at
 * its new record; callers have checked that no record is linked to two sourcedIds.
 */
export async function linkSources(ctx: DomainContext, entity: RosterEntity, links: readonly Link[]): Promise<void> {
  if (links.length === 0) return;
  const now = ctx.now();
  await ctx.db
    .insert(rosterSources)
    .values(links.map((l) => ({ entity, sourcedId: l.sourcedId, entityId: l.entityId, name: l.name ?? null, createdAt: now, updatedAt: now })))
    .onConflictDoUpdate({
      target: [rosterSources.entity, rosterSources.sourcedId],
      set: { entityId: sql`excluded.entity_id`, name: sql`excluded.name`, updatedAt: now },
      setWhere: sql`(${rosterSources.entityId}, ${rosterSources.name}) is distinct from (excluded.entity_id, excluded.name)`,
    });
}

export interface StagedRow<Data> {
  line: number;
  data: Data;
  outcome: ImportRowOutcome | null;
}

/** The rows an earlier file of this import staged under these keys (sourcedIds), with what they came to. */
export async function stagedRows<Data>(db: Executor, importId: string, file: string, keys: readonly string[]): Promise<Map<string, StagedRow<Data>>> {
  if (keys.length === 0) return new Map();
  // One pass over the file's staged rows (import_rows has no index on key), not a lookup per key.
  const rows = await db.execute<{ key: string; line: number; data: Data; outcome: ImportRowOutcome | null }>(sql`
    select r.key, r.line, r.data, r.outcome from ${importRows} r
    where r.import_id = ${importId} and r.file = ${file} and r.key = any(${sql.param([...new Set(keys)])}::text[])`);
  return new Map(rows.map((r) => [r.key, { line: r.line, data: r.data, outcome: r.outcome }]));
}

/** Whether a staged row came (or in a dry run would come) to a record. */
export const stagedOk = (row: StagedRow<unknown> | undefined): boolean =>
  row !== undefined && (row.outcome === null || row.outcome.result === "created" || row.outcome.result === "updated" || row.outcome.result === "unchanged");
