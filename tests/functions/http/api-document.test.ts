import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { type ApiDocument, fetchDocument, type OperationRef, operationsOf, responseValidator } from "../../support/openapi.js";

const run = promisify(execFile);

let db: TestDatabase;
let app: RunningApp;
let doc: ApiDocument;
let operations: OperationRef[];

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url } });
  doc = await fetchDocument(app);
  operations = operationsOf(doc);
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

const requiresCaller = (access: { kind: string; policies?: { kind: string }[] }): boolean =>
  access.kind === "anyOf" ? (access.policies ?? []).every(requiresCaller) : access.kind !== "public";

describe("the OpenAPI document", () => {
  it("declares the bearer JWT scheme, and on each operation whether it needs it", () => {
    expect(doc.components.securitySchemes?.bearerAuth).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    const wrong = operations
      .filter(({ operation: op }) => {
        if (requiresCaller(op["x-access"])) return JSON.stringify(op.security) !== JSON.stringify([{ bearerAuth: [] }]);
        return !["[]", JSON.stringify([{}, { bearerAuth: [] }])].includes(JSON.stringify(op.security));
      })
      .map((r) => `${r.operation.operationId}: ${JSON.stringify(r.operation.security)}`);
    expect(wrong).toEqual([]);
    expect(doc.paths["/health"]?.get?.security).toEqual([]);
    expect(doc.paths["/v1/courses"]?.get?.security).toEqual([{}, { bearerAuth: [] }]);
  });

  it("declares on every operation the problems the route helper can answer: 401 with its challenge, 500 and 503 with Retry-After", () => {
    for (const { operation: op } of operations) {
      expect(op.responses["401"]?.headers, op.operationId).toHaveProperty("WWW-Authenticate");
      expect(op.responses["401"]?.content, op.operationId).toHaveProperty("application/problem+json");
      expect(op.responses["500"]?.content, op.operationId).toHaveProperty("application/problem+json");
      expect(op.responses["503"]?.headers, op.operationId).toHaveProperty("Retry-After");
    }
  });

  it("derives 403 and 404 from the access policy", () => {
    const get = (path: string, method: string) => doc.paths[path]?.[method]?.responses ?? {};
    expect(Object.keys(get("/v1/users", "get"))).toContain("403");
    expect(Object.keys(get("/v1/courses/{courseId}/staff", "get"))).toEqual(expect.arrayContaining(["403", "404"]));
    expect(Object.keys(get("/v1/me", "get"))).not.toContain("403");
    expect(Object.keys(get("/health", "get"))).not.toContain("403");
  });

  it("declares 400, 413 and 415 for bodies, 409 and 422 for writes and idempotency keys, 304 and 412 for conditional requests", () => {
    const create = doc.paths["/v1/courses"]?.post?.responses ?? {};
    expect(create["400"]?.description).toContain("INVALID_IDEMPOTENCY_KEY");
    expect(create["409"]?.description).toContain("IDEMPOTENCY_KEY_IN_USE");
    expect(create["422"]?.description).toContain("IDEMPOTENCY_KEY_REUSED");
    expect(Object.keys(create)).toEqual(expect.arrayContaining(["413", "415"]));
    expect(Object.keys(doc.paths["/v1/lessons/{lessonId}"]?.get?.responses ?? {})).toContain("304");
    expect(Object.keys(doc.paths["/v1/me"]?.patch?.responses ?? {})).toContain("412");
    // An update without If-Match is unconditional, except where a lost update costs a regrade (rubric changes): 428
    // there, and only on conditional updates (those declare 412 too).
    expect(operations.filter((r) => r.operation.responses["428"] && !r.operation.responses["412"]).map((r) => r.operation.operationId)).toEqual([]);
    expect(Object.keys(doc.paths["/v1/rubrics/{rubricId}"]?.put?.responses ?? {})).toEqual(expect.arrayContaining(["412", "428"]));
  });

  it("declares the 409 of an answer-file upload for a closed attempt", () => {
    expect(doc.paths["/v1/attempts/{attemptId}/files"]?.post?.responses["409"]?.description).toContain("ATTEMPT_CLOSED");
  });

  // That every problem code a handler can produce is declared, naming the code: `npm run check:problems` (a static
  // check of the sources, run by npm test beside lint and the typecheck).

  it("serves itself as the object its own schema declares", async () => {
    const validate = responseValidator(doc);
    const ref = operations.find((r) => r.operation.operationId === "system-openapi") as OperationRef;
    expect(validate(ref, "200", "application/json", doc)).toBeNull();
  });

  it("passes Redocly's recommended rules with no errors", { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "ringlet-openapi-"));
    try {
      const file = join(dir, "openapi.json");
      await writeFile(file, JSON.stringify(doc, null, 2));
      // Run from an empty folder with the recommended rules named: no redocly.yaml, no remote config, no telemetry.
      const { stdout } = await run(join(repoRoot, "node_modules", ".bin", "redocly"), ["lint", "--extends=recommended", "--format=json", file], {
        cwd: dir,
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
        maxBuffer: 64 * 1024 * 1024,
      }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? "" }));
      const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[] };
      const errors = report.problems.filter((p) => p.severity === "error").map((p) => `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
      expect(errors).toEqual([]);
      expect(report.totals.errors).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
