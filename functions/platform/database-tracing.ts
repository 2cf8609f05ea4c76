import { type Attributes, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type postgres from "postgres";
import type { Database } from "../../domain/db/client.js";

// Taken at first use, not at import: telemetry.ts replaces the global providers while the app loads, and a
// tracer taken before that would stay a no-op.
let tracer: Tracer | undefined;

/**
 * postgres.js has no OpenTelemetry instrumentation, so each top-level transaction becomes one PostgreSQL
 * dependency span (one per unit of work rather than per statement: cheap, and what a request waits on).
 * Without a registered tracer provider the API hands out no-op spans, so this costs next to nothing.
 */
export function traceTransactions(db: Database, options: postgres.Sql["options"]): Database {
  // OpenTelemetry's database conventions, which the Azure Monitor exporter maps to a "postgresql" dependency.
  const attributes: Attributes = {
    "db.system": "postgresql",
    "db.name": options.database,
    "db.operation": "transaction",
    "net.peer.name": options.host[0],
    "net.peer.port": options.port[0],
  };
  const transaction = db.transaction.bind(db);
  db.transaction = ((run, config) =>
    (tracer ??= trace.getTracer("ringlet.database")).startActiveSpan(`postgres transaction ${options.database}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        return await transaction(run, config);
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    })) as Database["transaction"];
  return db;
}
