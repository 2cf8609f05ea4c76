import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "../../db/client.js";
import { users } from "../../db/schema/index.js";
import { normalizeEmail } from "../../identity/email.js";
import type { RowOutcome, RowPart } from "../import-kind.js";
import { ensureUsers, importEmailSchema, type PersonRow } from "../kinds/users.js";
import { columnsOf, guid, refusedForCourseStaff, skipDeleted, status, text } from "./columns.js";
import { type Link, linkSources, sourcedIdsOf, sourcesOf } from "./sources.js";

export interface OneRosterUserRow {
  sourcedId: string;
  status: "" | "active" | "tobedeleted";
  enabled: boolean;
  /** Normalised; null when the row has none. */
  email: string | null;
  name: string;
}

// A Ringlet display name is at most 100 characters (the users kind's limit).
const NAME_MAX = 100;

const schema: z.ZodType<OneRosterUserRow> = z
  .object({
    sourcedid: guid("sourcedId"),
    status,
    enableduser: z.enum(["true", "false"], { error: "enabledUser must be true or false" }),
    givenname: text("givenName"),
    familyname: text("familyName"),
    email: z.union([z.literal(""), importEmailSchema]),
  })
  .transform((r) => ({
    sourcedId: r.sourcedid,
    status: r.status,
    enabled: r.enableduser === "true",
    email: r.email === "" ? null : r.email,
    name: `${r.givenname} ${r.familyname}`,
  }))
  .refine((r) => r.name.length <= NAME_MAX, { error: `givenName and familyName together are longer than ${NAME_MAX - 1} characters` });

const failed = (reason: string): RowOutcome => ({ result: "failed", entity: "user", reason });

// Joined as a set (unnest), not `= any(...)`: see sources.ts.
/** The addresses of these accounts, by id. */
export async function addressesOf(db: Executor, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.execute<{ id: string; email: string }>(sql`
    select u.id, u.email from unnest(${sql.param([...new Set(ids)])}::uuid[]) as v(id) join ${users} u on u.id = v.id`);
  return new Map(rows.map((u) => [u.id, u.email]));
}

async function accountsOf(db: Executor, emails: readonly string[]): Promise<Map<string, string>> {
  if (emails.length === 0) return new Map();
  const rows = await db.execute<{ id: string; email: string }>(sql`
    select u.id, u.email from unnest(${sql.param([...new Set(emails)])}::text[]) as v(email) join ${users} u on u.email = v.email`);
  return new Map(rows.map((u) => [u.id, u.email]));
}

/**
 * users.csv (OneRoster 1.2 CSV Binding, section 3) → Ringlet users through ensureUsers (the users kind's one path:
 * created accounts get an invitation): matched by sourcedId, then by email; givenName + familyName is the name.
 * A disabled user is skipped, one without an email fails. An import never changes an account's address: a
 * sourcedId whose account has another address fails, as does an address whose account came under another sourcedId.
 */
export const onerosterUsersPart: RowPart<OneRosterUserRow> = {
  file: "users.csv",
  entity: "user",
  requiredColumns: columnsOf(["sourcedId", "enabledUser", "username", "givenName", "familyName"]),
  optionalColumns: columnsOf([
    "status",
    "dateLastModified",
    "userIds",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
    "userMasterIdentifier",
    "resourceSourcedIds",
    "preferredGivenName",
    "preferredMiddleName",
    "preferredFamilyName",
    "primaryOrgSourcedId",
    "pronouns",
  ]),
  schema,
  key: (row) => row.sourcedId,
  async apply(ctx, run, rows) {
    const refused = refusedForCourseStaff(run, "user", rows);
    if (refused) return refused;
    const all = rows.map((r) => r.row);
    const linked = await sourcesOf(ctx.db, "user", all.map((r) => r.sourcedId));
    const addressOf = await addressesOf(ctx.db, [...linked.values()].map((s) => s.entityId));
    // Accounts of the batch's addresses, and the sourcedIds they came under before.
    const accountOf = new Map(
      [...(await accountsOf(ctx.db, all.flatMap((r) => (r.email ? [r.email] : []))))].map(([id, email]) => [email, id]),
    );
    const sourcedIdOf = await sourcedIdsOf(ctx.db, "user", [...accountOf.values()]);

    const pending = new Map<number, RowOutcome>();
    const people: PersonRow[] = [];
    // One account is one sourcedId: a second row with an address fails rather than link it twice.
    const sourcedIdOfAddress = new Map<string, string>();
    rows.forEach(({ line, row }, i) => {
      if (row.status === "tobedeleted") return void pending.set(i, skipDeleted("user"));
      if (!row.enabled) return void pending.set(i, { result: "skipped", entity: "user", reason: `user ${row.sourcedId} is not enabled (enabledUser is false)` });
      if (!row.email) return void pending.set(i, failed(`user ${row.sourcedId} has no email`));
      const source = linked.get(row.sourcedId);
      const address = source ? addressOf.get(source.entityId) : undefined;
      if (address !== undefined && address !== normalizeEmail(row.email)) {
        return void pending.set(i, failed(`user ${row.sourcedId} was imported with another address; an import does not change an account's address`));
      }
      const account = accountOf.get(row.email);
      const other = account ? sourcedIdOf.get(account) : undefined;
      if (other !== undefined && other !== row.sourcedId) {
        return void pending.set(i, failed(`the account of ${row.email} was imported as user ${other}`));
      }
      const twin = sourcedIdOfAddress.get(row.email);
      if (twin !== undefined) return void pending.set(i, failed(`${row.email} is also the address of user ${twin}`));
      sourcedIdOfAddress.set(row.email, row.sourcedId);
      people.push({ line, email: row.email, name: row.name, locale: null });
    });
    const ensured = await ensureUsers(ctx, run, people);

    const links: Link[] = [];
    const outcomes = all.map((row, i): RowOutcome => {
      const early = pending.get(i);
      if (early) return early;
      const result = ensured.get(row.email as string);
      if (!result) throw new Error("ensureUsers returned no outcome for a row");
      if (result.result === "failed") return failed(result.reason ?? "the account could not be created");
      if (result.userId) links.push({ sourcedId: row.sourcedId, entityId: result.userId });
      return { result: result.result, entity: "user" };
    });
    if (!run.dryRun) await linkSources(ctx, "user", links);
    return outcomes;
  },
};
