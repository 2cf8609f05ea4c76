import { sql } from "drizzle-orm";
import { z } from "zod";
import { type AuditEntry, recordAudits } from "../../audit/record-audit.js";
import { users } from "../../db/schema/index.js";
import { type CreatedInvitee, inviteCreatedUsers } from "../../identity/account-invitations.js";
import { normalizeEmail } from "../../identity/email.js";
import type { DomainContext } from "../../shared/context.js";
import type { ImportRun, RowOutcome, RowPart } from "../import-kind.js";

// The `users` kind, and ensureUsers: how every kind that names people by address finds or creates their accounts.

/** One person a batch names; `name` and `locale` null where the file does not give them. */
export interface PersonRow {
  line: number;
  email: string;
  name: string | null;
  locale: string | null;
}

export interface EnsuredUser {
  /** Null in a dry run for a user it would create, and for a failed row. */
  userId: string | null;
  result: "created" | "updated" | "unchanged" | "failed";
  reason?: string;
}

const NAME_MAX = 100;
// Control characters (NUL among them, which PostgreSQL text refuses) never belong in a name.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export const importEmailSchema = z
  .string()
  .min(1, { error: "email is required" })
  .max(254, { error: "email is longer than 254 characters" })
  .transform(normalizeEmail)
  .pipe(z.email({ error: "email is not an address" }));

export const importNameSchema = z
  .string()
  .max(NAME_MAX, { error: `name is longer than ${NAME_MAX} characters` })
  .refine((s) => !CONTROL.test(s), { error: "name holds a control character" });

/** A BCP 47 tag in its canonical form ("es-mx" → "es-MX"); "" is no locale. */
export const importLocaleSchema = z
  .string()
  .max(35, { error: "locale is longer than 35 characters" })
  .transform((value, ctx) => {
    if (value === "") return null;
    try {
      const [canonical] = Intl.getCanonicalLocales(value);
      if (canonical) return canonical;
    } catch {
      // RangeError: not a language tag
    }
    ctx.addIssue({ code: "custom", message: "locale is not a language tag such as en or es-MX" });
    return z.NEVER;
  });

const failed = (reason: string): EnsuredUser => ({ userId: null, result: "failed", reason });

interface ExistingUser {
  id: string;
  email: string;
  displayName: string;
  locale: string;
  disabledAt: Date | null;
  erasedAt: Date | null;
}

/**
 * Finds or creates the account of each address, set-based: one read of the batch's addresses, one multi-row insert
 * for the new ones, one update for the names and locales that differ. A created user exists at once (no password,
 * address unverified), so it can be enrolled in the same batch, and gets an account invitation to choose its
 * password. An address without an account and without a name fails (nobody is created from a bare address). An
 * erased or deactivated account fails; a password, admin flag or verified address is never touched. Course staff's
 * imports (`run.courseId`) neither create accounts (an unknown address fails) nor change existing ones. In a dry run it only reads, and a user
 * it would create has `userId` null. Keyed by normalised address; the first row of an address decides for it.
 */
export async function ensureUsers(ctx: DomainContext, run: ImportRun, people: readonly PersonRow[]): Promise<Map<string, EnsuredUser>> {
  const out = new Map<string, EnsuredUser>();
  const wanted = new Map<string, PersonRow>();
  for (const person of people) {
    const email = normalizeEmail(person.email);
    if (out.has(email) || wanted.has(email)) continue;
    if (!importEmailSchema.safeParse(email).success) out.set(email, failed("email is not an address"));
    else wanted.set(email, { ...person, email });
  }
  if (wanted.size === 0) return out;

  const updates: { user: ExistingUser; name: string; locale: string }[] = [];
  const classify = (person: PersonRow, user: ExistingUser): void => {
    if (user.erasedAt) return void out.set(person.email, failed("the account of this address was erased"));
    if (user.disabledAt) return void out.set(person.email, failed("the account of this address is deactivated"));
    const name = run.courseId ? user.displayName : (person.name ?? user.displayName);
    const locale = run.courseId ? user.locale : (person.locale ?? user.locale);
    if (name === user.displayName && locale === user.locale) return void out.set(person.email, { userId: user.id, result: "unchanged" });
    out.set(person.email, { userId: user.id, result: "updated" });
    updates.push({ user, name, locale });
  };

  const existing = await readUsers(ctx, [...wanted.keys()], !run.dryRun);
  const toCreate: PersonRow[] = [];
  for (const person of wanted.values()) {
    const user = existing.get(person.email);
    if (user) classify(person, user);
    // Course staff enrol people who have accounts; creating accounts (and sending invitations) is an administrator's.
    else if (run.courseId) out.set(person.email, failed("no account has this address; an administrator imports new people"));
    else if (!person.name) out.set(person.email, failed("no account has this address; give a name to create one"));
    else if (run.dryRun) out.set(person.email, { userId: null, result: "created" });
    else toCreate.push(person);
  }
  if (run.dryRun) return out;

  // In address order, as every batch inserts: two imports creating the same addresses wait on each other's
  // unique-index entries in one order and cannot deadlock.
  toCreate.sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  const created = await createUsers(ctx, toCreate);
  // An address another transaction created meanwhile (the insert waited for it) is an existing account now.
  const lost = toCreate.filter((p) => !created.has(p.email));
  if (lost.length > 0) {
    const meanwhile = await readUsers(ctx, lost.map((p) => p.email), true);
    for (const person of lost) {
      const user = meanwhile.get(person.email);
      if (user) classify(person, user);
      else throw new Error(`ensureUsers: ${person.email} was neither inserted nor found`);
    }
  }
  for (const person of toCreate) {
    const invitee = created.get(person.email);
    if (invitee) out.set(person.email, { userId: invitee.userId, result: "created" });
  }

  await updateUsers(ctx, updates);
  await inviteCreatedUsers(ctx, [...created.values()], { ttlHours: run.invitationTtlHours, appUrl: run.appUrl });
  const audits: AuditEntry[] = [
    ...[...created.values()].map((c) => ({ action: "user.imported" as const, targetType: "user", targetId: c.userId, details: { importId: run.importId } })),
    ...updates.map((u) => ({
      action: "user.profile-updated" as const,
      targetType: "user",
      targetId: u.user.id,
      details: { importId: run.importId, changed: [...(u.name !== u.user.displayName ? ["displayName"] : []), ...(u.locale !== u.user.locale ? ["locale"] : [])] },
    })),
  ];
  await recordAudits(ctx, audits);
  return out;
}

/**
 * The accounts of `emails`. In a real run they are locked (`for no key update`, in id order): an erasure or a
 * deactivation committing meanwhile waits for the batch instead of slipping between its read and its writes.
 */
async function readUsers(ctx: DomainContext, emails: string[], lock: boolean): Promise<Map<string, ExistingUser>> {
  const query = ctx.db
    .select({ id: users.id, email: users.email, displayName: users.displayName, locale: users.locale, disabledAt: users.disabledAt, erasedAt: users.erasedAt })
    .from(users)
    .where(sql`${users.email} = any(${sql.param(emails)}::text[])`)
    .orderBy(users.id);
  const rows = lock ? await query.for("no key update") : await query;
  return new Map(rows.map((r) => [r.email, r]));
}

// The batch's inserts pass one array per column (unnest): a 500-row multi-row VALUES with a parameter per cell
// cost ~10x more to build and bind.
async function createUsers(ctx: DomainContext, people: PersonRow[]): Promise<Map<string, CreatedInvitee>> {
  if (people.length === 0) return new Map();
  const now = ctx.now().toISOString();
  const rows = await ctx.db.execute<{ id: string; email: string; display_name: string; locale: string }>(sql`
    insert into ${users} (id, email, display_name, locale, created_at, updated_at)
    select v.id, v.email, v.name, v.locale, ${now}::timestamptz, ${now}::timestamptz
    from unnest(${sql.param(people.map(() => ctx.newId()))}::uuid[], ${sql.param(people.map((p) => p.email))}::text[],
      ${sql.param(people.map((p) => p.name ?? p.email))}::text[], ${sql.param(people.map((p) => p.locale ?? "en"))}::text[]) as v(id, email, name, locale)
    on conflict (email) do nothing
    returning id, email, display_name, locale`);
  return new Map(rows.map((r) => [r.email, { userId: r.id, email: r.email, displayName: r.display_name, locale: r.locale }]));
}

async function updateUsers(ctx: DomainContext, updates: { user: ExistingUser; name: string; locale: string }[]): Promise<void> {
  if (updates.length === 0) return;
  const ids = updates.map((u) => u.user.id);
  const names = updates.map((u) => u.name);
  const locales = updates.map((u) => u.locale);
  await ctx.db.execute(sql`
    update ${users} set display_name = v.name, locale = v.locale, updated_at = ${ctx.now().toISOString()}::timestamptz
    from unnest(${sql.param(ids)}::uuid[], ${sql.param(names)}::text[], ${sql.param(locales)}::text[]) as v(id, name, locale)
    where ${users.id} = v.id`);
}

export interface UserRow {
  email: string;
  name: string;
  locale: string | null;
}

const userRowSchema: z.ZodType<UserRow> = z.object({
  email: importEmailSchema,
  name: importNameSchema.min(1, { error: "name is required" }),
  locale: importLocaleSchema.optional().transform((l) => l ?? null),
});

const outcomeOf = (ensured: EnsuredUser | undefined): RowOutcome => {
  if (!ensured) throw new Error("ensureUsers returned no outcome for a row");
  if (ensured.result === "failed") return { result: "failed", entity: "user", reason: ensured.reason ?? "the account could not be created" };
  return { result: ensured.result, entity: "user" };
};

/** `users.csv` / the `users` kind: email, name, optional locale; one account per address. */
export const usersPart: RowPart<UserRow> = {
  file: "users",
  entity: "user",
  requiredColumns: ["email", "name"],
  optionalColumns: ["locale"],
  schema: userRowSchema,
  key: (row) => row.email,
  async apply(ctx, run, rows) {
    const ensured = await ensureUsers(
      ctx,
      run,
      rows.map(({ line, row }) => ({ line, email: row.email, name: row.name, locale: row.locale })),
    );
    return rows.map(({ row }) => outcomeOf(ensured.get(row.email)));
  },
};

