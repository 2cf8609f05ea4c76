import { sql } from "drizzle-orm";
import { check, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { timestamps } from "./columns.js";

export const rosterEntities = ["user", "course", "section", "org", "academic-session"] as const;
export type RosterEntity = (typeof rosterEntities)[number];

/**
 * The OneRoster sourcedId a Ringlet record was imported under, so the next bundle from the same system finds it
 * again (a renamed class stays the same section). `entity_id` points at users, courses or sections by `entity`
 * (no foreign key: a row whose record was deleted is ignored and replaced); orgs and academic sessions have no
 * Ringlet record, so their id is made here and `name` keeps what was imported.
 */
export const rosterSources = pgTable(
  "roster_sources",
  {
    entity: text("entity").$type<RosterEntity>().notNull(),
    sourcedId: text("sourced_id").notNull(),
    entityId: uuid("entity_id").notNull(),
    // the org's name or the academic session's title as last imported; null for the other entities
    name: text("name"),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.entity, t.sourcedId] }),
    uniqueIndex("roster_sources_entity_entity_id_idx").on(t.entity, t.entityId),
    check("roster_sources_entity_check", sql`${t.entity} in ('user', 'course', 'section', 'org', 'academic-session')`),
  ],
);
