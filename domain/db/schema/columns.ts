import { type AnyPgColumn, customType, timestamp, uuid } from "drizzle-orm/pg-core";

/** Created/updated timestamps shared by every table that has them. */
export const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
};

export const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** A required foreign key whose row is deleted with the row it points at. */
export const belongsTo = (name: string, target: () => AnyPgColumn) => uuid(name).notNull().references(target, { onDelete: "cascade" });

/** A PostgreSQL full-text search vector (written by SQL, read only through `@@`). */
export const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });
