import { randomBytes } from "node:crypto";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, openDatabase, POSTGRES_ENTRA_SCOPE } from "../../../functions/platform/database.js";
import { databaseSettingsSchema, parseEnv } from "../../../functions/platform/settings.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";

/**
 * Plays Microsoft Entra and the server's Entra authentication together: `rotate()` issues a new token and
 * makes it the role's password, and the previous one stops working (stricter than Azure, where an older token
 * stays valid until it expires), so a connection can only sign in with the newest token. Rotation happens
 * before a connection starts, because a backend reads the role's password with the snapshot it starts with.
 */
class RotatingTokenIssuer implements TokenCredential {
  readonly scopes: string[] = [];
  readonly issued: string[] = [];
  #current: string | undefined;

  constructor(
    private readonly admin: postgres.Sql,
    private readonly role: string,
    private readonly lifetimeMs: number,
  ) {}

  async rotate(): Promise<string> {
    // Shaped like a JWT (three base64url parts, ~1 KB): long tokens must pass through sign-in untouched.
    const token = ["eyJhbGciOiJSUzI1NiJ9", randomBytes(600).toString("base64url"), randomBytes(256).toString("base64url")].join(".");
    await this.admin.unsafe(`alter role ${this.role} password '${token}'`);
    this.#current = token;
    return token;
  }

  async getToken(scopes: string | string[]): Promise<AccessToken | null> {
    this.scopes.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    if (!this.#current) return null;
    this.issued.push(this.#current);
    return { token: this.#current, expiresOnTimestamp: Date.now() + this.lifetimeMs };
  }
}

const role = `entra_${randomBytes(4).toString("hex")}`;
let db: TestDatabase;
let admin: postgres.Sql;
let handle: DatabaseHandle | undefined;

beforeAll(async () => {
  db = await createTestDatabase({ max: 1 });
  admin = postgres(db.url, { max: 1, onnotice: () => {} });
  // As an Azure administrator sets up the app's identity: a login role with rights on the app's tables.
  await admin.unsafe(`create role ${role} login`);
  await admin.unsafe(`grant select, insert, update, delete on all tables in schema public to ${role}`);
});

afterAll(async () => {
  await handle?.close();
  // Dropping what the role owns also revokes its grants, which would otherwise keep the role alive.
  await admin.unsafe(`drop owned by ${role}`).catch(() => undefined);
  await admin.unsafe(`drop role if exists ${role}`).catch(() => undefined);
  await admin.end();
  await db.drop();
});

/** DATABASE_URL as in Azure: the identity's role name as user, no password. */
function entraUrl(): string {
  const u = new URL(db.url);
  u.username = role;
  u.password = "";
  return u.toString();
}

describe("Entra ID sign-in to PostgreSQL", () => {
  it("signs in with an access token for the PostgreSQL audience and renews it before it expires", async () => {
    // Cached for ~1.5 s: a token is renewed five minutes before expiry, so this one is renewed after 1.5 s.
    const issuer = new RotatingTokenIssuer(admin, role, 5 * 60_000 + 1_500);
    const s = parseEnv(databaseSettingsSchema, { DATABASE_URL: entraUrl(), DATABASE_AUTH: "entra", DATABASE_IDLE_TIMEOUT_S: "1" });
    handle = openDatabase(s, { max: 2, credential: issuer });
    const first = await issuer.rotate();

    const [who] = await handle.sql<{ user: string }[]>`select current_user as user`;
    expect(who?.user).toBe(role);
    // Drizzle over the same pool: the app's queries work as the identity.
    const courses = await handle.db.query.courses.findMany({ limit: 1 });
    expect(courses).toEqual([]);
    expect(issuer.scopes).toEqual([POSTGRES_ENTRA_SCOPE]);

    // A second connection while the token is fresh reuses it rather than asking Entra again.
    await Promise.all([handle.sql`select pg_sleep(0.2)`, handle.sql`select pg_sleep(0.2)`]);
    expect(issuer.issued).toHaveLength(1);

    // Entra has a new token; after the cached one went stale and the idle connections closed, the next
    // connection asks again. Only the new token signs in, so the query succeeding proves it was used.
    const second = await issuer.rotate();
    await new Promise((r) => setTimeout(r, 2_500));
    const [again] = await handle.sql<{ n: number }[]>`select 1 as n`;
    expect(again?.n).toBe(1);
    expect(issuer.issued).toEqual([first, second]);

    const stale = postgres(entraUrl(), { password: first, max: 1, onnotice: () => {} });
    await expect(stale`select 1`).rejects.toThrow(/password authentication failed/);
    await stale.end();
  });

  it("refuses to send a token unencrypted to a server on another machine", () => {
    const s = parseEnv(databaseSettingsSchema, { DATABASE_URL: "postgres://ringlet-api@db.example.postgres.database.azure.com:6432/ringlet", DATABASE_AUTH: "entra" });
    expect(() => openDatabase(s, { credential: { getToken: async () => null } })).toThrow(/DATABASE_SSL=require/);
  });
});
