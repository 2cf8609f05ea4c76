import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { waitFor } from "../../support/wait-for.js";

/** One Application Insights envelope, as the Azure Monitor exporter posts it to `<IngestionEndpoint>/v2.1/track`. */
interface Envelope {
  name: string;
  tags?: Record<string, string>;
  data?: { baseType?: string; baseData?: Record<string, unknown> & { metrics?: { name: string; value: number }[] } };
}

let db: TestDatabase;
let app: RunningApp;
let ingestion: Server;
const received: Envelope[] = [];
const certDir = mkdtempSync(join(tmpdir(), "ringlet-ingestion-"));

beforeAll(async () => {
  // The exporter only speaks HTTPS (it rewrites http:// endpoints), so the stand-in serves a self-signed
  // certificate for 127.0.0.1 that the app's process is told to trust (NODE_EXTRA_CA_CERTS).
  const [key, cert] = [join(certDir, "key.pem"), join(certDir, "cert.pem")];
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });

  // Stands in for the Application Insights ingestion endpoint: accepts every batch and keeps its envelopes.
  ingestion = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
      const items = req.url?.startsWith("/v2.1/track") ? (JSON.parse(body.toString("utf8")) as Envelope[]) : [];
      received.push(...items);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ itemsReceived: items.length, itemsAccepted: items.length, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => ingestion.listen(0, "127.0.0.1", resolve));
  const port = (ingestion.address() as AddressInfo).port;

  db = await createTestDatabase();
  app = await startApp({
    env: {
      DATABASE_URL: db.url,
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:${port}/`,
      NODE_EXTRA_CA_CERTS: cert,
      // Read by the OpenTelemetry SDK and the exporter, not by the app: export within a second instead of
      // every 5 s (spans) and 60 s (metrics), and no SDK statistics sent to Microsoft from a test.
      OTEL_BSP_SCHEDULE_DELAY: "200",
      OTEL_METRIC_EXPORT_INTERVAL: "1000",
      APPLICATION_INSIGHTS_NO_STATSBEAT: "true",
      OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *",
      LOG_LEVEL: "debug",
    },
  });
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
  await new Promise((resolve) => ingestion?.close(resolve));
  rmSync(certDir, { recursive: true, force: true });
});

function traceparent(): { header: string; traceId: string; spanId: string } {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

const ofTrace = (traceId: string, baseType: string) =>
  received.filter((e) => e.data?.baseType === baseType && e.tags?.["ai.operation.id"] === traceId);

const seen = () =>
  JSON.stringify(received.filter((e) => !e.name.endsWith("Metric")).map((e) => [e.data?.baseType, e.tags?.["ai.operation.id"], e.tags?.["ai.operation.parentId"], e.data?.baseData?.name]));

describe("telemetry to Application Insights", () => {
  it("records the request and its dependencies in the trace the caller started", async () => {
    const trace = traceparent();
    const res = await fetch(`${app.baseUrl}/api/ready`, { headers: { traceparent: trace.header } });
    await res.arrayBuffer();

    // The request: locally recorded by the runtime's HTTP server (it shares the worker's process), in Azure
    // by the Functions host. Either way it continues the caller's trace.
    const [request] = await waitFor("request telemetry of GET /api/ready", async () => {
      const found = ofTrace(trace.traceId, "RequestData").filter((r) => r.data?.baseData?.name === "GET /api/ready");
      return found.length > 0 ? found : undefined;
    }, { timeoutMs: 15_000, diagnostics: seen });
    expect(request?.tags?.["ai.operation.parentId"]).toBe(trace.spanId);

    // Dependencies of the invocation: the Blob SDK's call (through @azure/core-tracing) and the Cosmos
    // endpoint's HTTP requests (through the HTTP instrumentation), in the same operation. Their parent is
    // the trace context the invocation was given, here the caller's span (the host passes its request's).
    const deps = await waitFor("Blob and Cosmos dependencies of the invocation", async () => {
      const found = ofTrace(trace.traceId, "RemoteDependencyData");
      const names = found.map((d) => String(d.data?.baseData?.name));
      return names.includes("ContainerClient-exists") && names.some((n) => n.includes("/dbs")) ? found : undefined;
    }, { timeoutMs: 15_000, diagnostics: seen });
    const exists = deps.find((d) => d.data?.baseData?.name === "ContainerClient-exists");
    expect(exists?.tags?.["ai.operation.parentId"]).toBe(trace.spanId);
    // Each Azure SDK HTTP request is recorded once, by the SDK (the socket-level copy is skipped).
    const blobHttp = deps.filter((d) => d.data?.baseData?.type === "Http" && String(d.data?.baseData?.name).includes("/course-files"));
    expect(blobHttp).toHaveLength(1);
  });

  it("records a PostgreSQL dependency for each transaction of an invocation", async () => {
    const trace = traceparent();
    const res = await fetch(`${app.baseUrl}/api/v1/auth/register`, {
      method: "POST",
      headers: { traceparent: trace.header, "content-type": "application/json" },
      body: JSON.stringify({ email: `otel-${randomBytes(4).toString("hex")}@example.com`, password: "a long enough passphrase 42", displayName: "Otel" }),
    });
    expect(res.status, await res.text()).toBe(201);
    const pg = await waitFor("a postgresql dependency of the register invocation", async () => {
      const found = ofTrace(trace.traceId, "RemoteDependencyData").filter((d) => d.data?.baseData?.type === "postgresql");
      return found.length > 0 ? found : undefined;
    }, { timeoutMs: 15_000, diagnostics: seen });
    expect(pg[0]?.data?.baseData?.target).toContain(db.name);
    expect(pg[0]?.tags?.["ai.operation.parentId"]).toBe(trace.spanId);
  });

  it("exports the outbox gauges the alerts use", async () => {
    // The latest exported value of a gauge: each export carries the last value the sweep recorded.
    const latest = (name: string) =>
      received
        .flatMap((e) => (e.data?.baseType === "MetricData" ? (e.data.baseData?.metrics ?? []) : []))
        .filter((m) => m.name === name)
        .at(-1)?.value;
    const gauges = () => `backlog ${String(latest("ringlet.outbox.backlog"))}, oldest age ${String(latest("ringlet.outbox.oldest_age_seconds"))}`;

    // An event committed an hour ago that the relay cannot claim: the test holds its aggregate's advisory lock,
    // the one the relay takes per aggregate, so the sweep skips it and it stays the only unpublished event.
    const id = randomUUID();
    await db.sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtextextended(${`course:${id}`}, 7))`;
      await db.sql`insert into outbox (id, type, aggregate_type, aggregate_id, occurred_at, created_at, data)
        values (${id}, 'course.archived', 'course', ${id}, now(), now() - interval '1 hour', ${JSON.stringify({ courseId: id, archivedAt: new Date().toISOString() })}::jsonb)`;
      await waitFor("gauges showing the held event", async () => {
        const age = latest("ringlet.outbox.oldest_age_seconds");
        return latest("ringlet.outbox.backlog") === 1 && age !== undefined && age >= 3600 && age < 3700 ? true : undefined;
      }, { timeoutMs: 15_000, diagnostics: gauges });
    });

    // Released, the sweep publishes it and says so in a structured log line, for log-based alerts (info whenever
    // the sweep had work, debug when idle); the gauges fall back to nothing waiting.
    await waitFor("the sweep's log line", async () => (/"msg":"outbox swept".*"published":1,"backlog":0,"oldestAgeSeconds":0/.test(app.output()) ? true : undefined), { timeoutMs: 15_000 });
    await waitFor("gauges back at zero", async () => (latest("ringlet.outbox.backlog") === 0 && latest("ringlet.outbox.oldest_age_seconds") === 0 ? true : undefined), {
      timeoutMs: 15_000,
      diagnostics: gauges,
    });
  });
});
