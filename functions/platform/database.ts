import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import type { Database } from "../../domain/db/client.js";
import * as schema from "../../domain/db/schema/index.js";
import type { DatabaseSettings } from "./settings.js";
import { traceTransactions } from "./database-tracing.js";

export interface DatabaseHandle {
  db: Database;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  max?: number;
  /** With DATABASE_AUTH=entra: who signs in (tests inject their own); DefaultAzureCredential by default. */
  credential?: TokenCredential;
}

/** The audience Azure Database for PostgreSQL accepts Entra access tokens for. */
export const POSTGRES_ENTRA_SCOPE = "https://ossrdbms-aad.database.windows.net/.default";

// Renew a token this long before it expires, so a connection opened just before expiry still signs in.
const REFRESH_MARGIN_MS = 5 * 60_000;

/** How long opening a connection may take: with the reconnect backoff, the longest a request waits on an unreachable server. */
export const CONNECT_TIMEOUT_S = 10;

/**
 * Seconds before a connection that failed to open tries again. postgres.js waits up to 20 s by default, and a
 * query handed to that connection waits with it: during an outage a request would hang instead of being
 * answered 503 at once, and after it the first requests would sit out the backoff. Capped at 1 s (with
 * jitter), a refused connection still costs the server nothing.
 */
export function reconnectBackoff(retries: number): number {
  return (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1);
}

/** One pool per function instance; many instances share one server, so the pool stays small. */
export function openDatabase(s: DatabaseSettings, options: OpenDatabaseOptions = {}): DatabaseHandle {
  const sql = postgres(s.DATABASE_URL, {
    max: options.max ?? s.DATABASE_POOL_MAX,
    idle_timeout: s.DATABASE_IDLE_TIMEOUT_S,
    connect_timeout: CONNECT_TIMEOUT_S,
    backoff: reconnectBackoff,
    // PgBouncer in transaction mode hands each transaction a different server connection,
    // so named prepared statements would be missing on the next one.
    prepare: !s.DATABASE_PGBOUNCER,
    ssl: s.DATABASE_SSL === "disable" ? false : s.DATABASE_SSL === "require" ? "require" : "verify-full",
    // postgres.js asks for the password on every new connection, so a pool outliving a token keeps signing in.
    ...(s.DATABASE_AUTH === "entra" ? { password: entraPassword(s, options.credential) } : {}),
    // PgBouncer refuses unknown startup parameters, so behind it the timeout comes from the role's
    // default, which `npm run db:migrate` sets (see commands/migrate.ts).
    connection: s.DATABASE_PGBOUNCER
      ? { application_name: "ringlet" }
      : { application_name: "ringlet", statement_timeout: s.DATABASE_STATEMENT_TIMEOUT_MS },
    onnotice: () => {},
  });
  const db = traceTransactions(drizzle(s.DATABASE_PGBOUNCER ? sql : preparing(sql), { schema, casing: "snake_case" }), sql.options);
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

// Statements with more parameters than this are usually variable-length lists (`in (...)`, multi-row inserts):
// each length would be one more prepared statement kept per connection, so they stay unnamed.
const PREPARE_MAX_PARAMETERS = 32;

/**
 * Drizzle asks postgres.js for unnamed statements (`prepare: false`) unless a query is given a name, and
 * postgres.js sends an unnamed statement with parameters in two round trips (Parse/Describe, wait, then
 * Bind/Execute) and cannot pipeline behind it. Named statements, cached per connection, take one round trip
 * after their first use. So every parameterised statement of the app is prepared, except behind PgBouncer in
 * transaction mode (the statement would be missing on the next server connection) and for long lists.
 */
function preparing(sql: postgres.Sql): postgres.Sql {
  type Unsafe = postgres.Sql["unsafe"];
  return new Proxy(sql, {
    get(target, name, receiver) {
      if (name === "unsafe") {
        const unsafe: Unsafe = (query, args, options) =>
          target.unsafe(query, args, { ...options, prepare: (args?.length ?? 0) > 0 && (args?.length ?? 0) <= PREPARE_MAX_PARAMETERS });
        return unsafe;
      }
      if (name === "begin" || name === "savepoint") {
        // The transaction's own scoped client runs the statements inside it.
        const open = Reflect.get(target, name, receiver) as (...a: unknown[]) => unknown;
        return (...a: unknown[]) => {
          const fn = a[a.length - 1] as (tx: postgres.Sql) => unknown;
          return open.apply(target, [...a.slice(0, -1), (tx: postgres.Sql) => fn(preparing(tx))]);
        };
      }
      return Reflect.get(target, name, receiver) as unknown;
    },
  });
}

/**
 * The password function for Entra sign-in: an access token for the PostgreSQL audience, cached until
 * five minutes before it expires (or until the credential says to refresh), one request at a time.
 */
export function entraPassword(s: DatabaseSettings, injected?: TokenCredential): () => Promise<string> {
  const host = new URL(s.DATABASE_URL).hostname;
  // A token is a bearer secret: it may travel unencrypted only to a server on this machine (tests, local).
  if (s.DATABASE_SSL === "disable" && !["localhost", "127.0.0.1", "[::1]"].includes(host)) {
    throw new Error("DATABASE_AUTH=entra needs DATABASE_SSL=require or verify-full: the access token is sent as the password");
  }
  let credential = injected;
  let cached: AccessToken | undefined;
  let pending: Promise<AccessToken> | undefined;
  const fresh = (t: AccessToken) => Date.now() < Math.min(t.expiresOnTimestamp - REFRESH_MARGIN_MS, t.refreshAfterTimestamp ?? Infinity);
  return async () => {
    if (cached && fresh(cached)) return cached.token;
    pending ??= (async () => {
      // @azure/identity loads only when Entra sign-in is used: password deployments never pay for it.
      credential ??= await defaultCredential(s.DATABASE_ENTRA_CLIENT_ID);
      const token = await credential.getToken(POSTGRES_ENTRA_SCOPE);
      if (!token) throw new Error(`no access token for ${POSTGRES_ENTRA_SCOPE}`);
      cached = token;
      return token;
    })().finally(() => {
      pending = undefined;
    });
    return (await pending).token;
  };
}

async function defaultCredential(clientId: string | undefined): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import("@azure/identity");
  return new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
}
