import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../../support/app.js";
import { openAIStandInSettings } from "../../support/openai.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, signUp, type TestUser } from "../../support/identity.js";
import {
  type ApiDocument,
  fetchDocument,
  hostileValue,
  mutated,
  type OperationRef,
  operationsOf,
  responseValidator,
  type Schema,
  validArbitrary,
} from "../../support/openapi.js";

/**
 * Property-based test over the served OpenAPI document: for every operation, requests built from its declared
 * params, query and body (valid ones, valid ones with one thing wrong, hostile ones), as an admin, a learner,
 * nobody and a forged token. Every answer must be no 5xx, a declared status, and a body that matches the schema
 * declared for that status and media type (problem+json for every 4xx).
 *
 * Replay a failure with the seed it prints: FUZZ_SEED=<seed> (and FUZZ_RUNS=<n> for more runs per operation).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 1313);
const RUNS = Number(process.env.FUZZ_RUNS ?? 16);
/** GET operations fuzzed at once (the runtime serves them in parallel). */
const READ_CONCURRENCY = 4;

/**
 * Run after all others: each can end a fixture the others use (the learner's sessions and enrollment, the
 * course's state, the fixture lesson), which makes later answers true but less interesting.
 */
const LAST = new Set([
  "users-sessions-revoke",
  "users-roles-set",
  "me-password-change",
  "courses-archive",
  "courses-staff-remove",
  "enrollments-delete",
  "lessons-delete",
  "webhooks-delete",
  "ops-dead-letters-purge",
]);

type Persona = "admin" | "learner" | "anonymous" | "forged";

interface FuzzRequest {
  persona: Persona;
  params: Record<string, { raw: string } | { value: string }>;
  query: { raw: string } | Record<string, string | undefined>;
  body?: { json: unknown } | { bytes: readonly number[]; contentType: string } | { oversizeBytes: number };
  headers: Record<string, string>;
}

let db: TestDatabase;
let app: RunningApp;
let doc: ApiDocument;
let admin: TestUser;
let learner: TestUser;
const fixtures: Record<string, string> = {};

async function created(res: Response, what: string): Promise<string> {
  if (res.status !== 201) throw new Error(`${what} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  // Failed sign-ins are not slowed down here: the fuzzer sends many and their delay is tested elsewhere.
  // The generator talks to the runtime's model stand-in, so its routes are fuzzed past the 503 an unconfigured app answers.
  app = await startApp({ env: { DATABASE_URL: db.url, AUTH_LOGIN_SLOW_AFTER: "1000000", WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true", ...openAIStandInSettings } });
  [admin, learner] = await Promise.all([signUp(app, db, { label: "fuzz-admin", admin: true }), signUp(app, db, { label: "fuzz-learner" })]);
  const token = admin.accessToken;
  const courseId = await created(await call(app, "POST", "/v1/courses", { token, body: { title: "Fuzz course" } }), "course");
  expect((await call(app, "POST", `/v1/courses/${courseId}/publish`, { token })).status).toBe(200);
  const moduleId = await created(await call(app, "POST", `/v1/courses/${courseId}/modules`, { token, body: { title: "Fuzz module" } }), "module");
  const lessonId = await created(
    await call(app, "POST", `/v1/courses/${courseId}/modules/${moduleId}/lessons`, { token, body: { title: "Fuzz lesson", kind: "text", body: "Hello" } }),
    "lesson",
  );
  const assessmentId = await created(
    await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
      token,
      body: {
        title: "Fuzz quiz",
        kind: "quiz",
        attemptsAllowed: 100,
        items: [{ id: "q1", type: "true-false", points: 1 }],
        keys: { q1: { type: "true-false", correct: true } },
      },
    }),
    "assessment",
  );
  expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken })).status).toBe(201);
  const attemptId = await created(await call(app, "POST", `/v1/assessments/${assessmentId}/attempts`, { token: learner.accessToken }), "attempt");
  const webhookId = await created(await call(app, "POST", "/v1/webhooks", { token, body: { url: "http://127.0.0.1:1/fuzz" } }), "webhook");
  Object.assign(fixtures, { courseId, moduleId, lessonId, assessmentId, attemptId, submissionId: attemptId, webhookId, userId: learner.id });
  doc = await fetchDocument(app);
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

function tokenOf(persona: Persona): string | undefined {
  if (persona === "admin") return admin.accessToken;
  if (persona === "learner") return learner.accessToken;
  // A well-formed JWT signed with a key the app does not hold.
  if (persona === "forged") return "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLW9mLWEta2V5LXRoZS1hcHAtZG9lcy1ub3QtaG9sZA";
  return undefined;
}

// Raw, unencoded path segments and query strings: bad percent-encoding, an encoded NUL, a lone surrogate's UTF-8.
// (No dot segments: the client resolves them, so the request would be for another route.)
const rawSegments = fc.constantFrom("%00", "%FF", "%ED%A0%80", "a%2Fb", "%20", "null", "0", "-1", "1e309");

/**
 * Hostile values that fit in a URL. Front ends refuse long URLs before the app sees them (Node's server with
 * 431, Azure's with 414), so a path or query value is kept to 2,000 characters.
 */
const hostileInUrl = hostileValue.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).filter((v) => v.length <= 2_000);

function requestArbitrary(ref: OperationRef): fc.Arbitrary<FuzzRequest> {
  const op = ref.operation;
  const parameters = op.parameters ?? [];
  const params = Object.fromEntries(
    parameters
      .filter((p) => p.in === "path")
      .map((p) => {
        // An empty segment would make the request one for another route (`/modules/` is the module list).
        const generated = validArbitrary(doc, p.schema, p.name)
          .map((v) => ({ value: String(v) }))
          .filter((v) => v.value !== "");
        const fixture = fixtures[p.name];
        const hostile = fc.oneof(rawSegments.map((raw) => ({ raw })), hostileInUrl.filter((value) => value !== "").map((value) => ({ value })));
        return [p.name, fixture ? fc.oneof({ arbitrary: fc.constant({ value: fixture }), weight: 3 }, { arbitrary: generated, weight: 1 }, { arbitrary: hostile, weight: 1 }) : fc.oneof({ arbitrary: generated, weight: 3 }, { arbitrary: hostile, weight: 1 })];
      }),
  ) as Record<string, fc.Arbitrary<{ raw: string } | { value: string }>>;

  const queryParams = parameters.filter((p) => p.in === "query");
  const queryShape = Object.fromEntries(
    queryParams.map((p) => [p.name, fc.oneof({ arbitrary: validArbitrary(doc, p.schema, p.name).map(String), weight: 3 }, { arbitrary: hostileInUrl, weight: 1 })]),
  );
  const query: fc.Arbitrary<FuzzRequest["query"]> = fc.oneof(
    { arbitrary: fc.record(queryShape, { requiredKeys: [] }), weight: 4 },
    { arbitrary: fc.tuple(fc.constantFrom(...queryParams.map((p) => p.name), "unknown"), rawSegments).map(([k, v]) => ({ raw: `${k}=${v}` })), weight: 1 },
  );

  const bodySchema = op.requestBody?.content["application/json"]?.schema as Schema | undefined;
  const body: fc.Arbitrary<FuzzRequest["body"]> = bodySchema
    ? fc.oneof(
        { arbitrary: validArbitrary(doc, bodySchema).map((json) => ({ json })), weight: 3 },
        { arbitrary: mutated(validArbitrary(doc, bodySchema)).map((json) => ({ json })), weight: 3 },
        { arbitrary: hostileValue.map((json) => ({ json })), weight: 1 },
        {
          arbitrary: fc.constantFrom(
            { bytes: [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d], contentType: "application/json" },
            { bytes: [0x7b, 0x7d], contentType: "text/plain" },
            { bytes: [0x7b], contentType: "application/json" },
            { bytes: [], contentType: "application/json" },
            { oversizeBytes: 1_100_000 },
          ),
          weight: 1,
        },
      )
    : fc.constant(undefined);

  const headerNames = parameters.filter((p) => p.in === "header").map((p) => p.name);
  const headers = fc.record(
    Object.fromEntries(headerNames.map((name) => [name, fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('"x"', "*", "W/\"a\"", "\u00e9", "k".repeat(300)))])),
    { requiredKeys: [] },
  ) as fc.Arbitrary<Record<string, string>>;

  return fc.record({
    persona: fc.oneof({ arbitrary: fc.constant<Persona>("admin"), weight: 4 }, { arbitrary: fc.constant<Persona>("learner"), weight: 3 }, fc.constant<Persona>("anonymous"), fc.constant<Persona>("forged")),
    params: fc.record(params),
    query,
    body,
    headers,
  });
}

/** A path segment as the request sends it: encoded, or raw on purpose; a lone surrogate cannot be encoded, so it goes as its bytes would. */
function segment(part: { raw: string } | { value: string }): string {
  if ("raw" in part) return part.raw;
  try {
    return encodeURIComponent(part.value);
  } catch {
    return "%ED%A0%80";
  }
}

async function send(ref: OperationRef, req: FuzzRequest): Promise<Response> {
  const path = ref.path.replace(/\{([^}]+)\}/g, (_m, name: string) => segment(req.params[name] ?? { value: "x" }));
  let search = "";
  if ("raw" in req.query && typeof req.query.raw === "string") search = `?${req.query.raw}`;
  else {
    const given = Object.entries(req.query as Record<string, string | undefined>).filter((e): e is [string, string] => e[1] !== undefined);
    const entries = given.map(([k, v]) => {
      try {
        return `${encodeURIComponent(k)}=${encodeURIComponent(v)}`;
      } catch {
        return `${encodeURIComponent(k)}=%ED%A0%80`;
      }
    });
    if (entries.length) search = `?${entries.join("&")}`;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    // fetch refuses header values outside Latin-1 or with control characters: those never reach a server.
    if (/^[\x20-\x7e\x80-\xff]*$/.test(value)) headers[name] = value;
  }
  const token = tokenOf(req.persona);
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: Buffer | string | undefined;
  if (req.body && "json" in req.body) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(req.body.json) ?? "null";
  } else if (req.body && "oversizeBytes" in req.body) {
    headers["content-type"] = "application/json";
    payload = `"${"x".repeat(req.body.oversizeBytes)}"`;
  } else if (req.body) {
    headers["content-type"] = req.body.contentType;
    payload = Buffer.from(req.body.bytes);
  }
  return fetch(`${app.baseUrl}/api${path}${search}`, { method: ref.method, headers, ...(payload !== undefined ? { body: payload } : {}) });
}

/** What is wrong with an answer, judged by the document alone. */
async function judge(ref: OperationRef, res: Response, validate: ReturnType<typeof responseValidator>): Promise<string | null> {
  const status = String(res.status);
  const text = await res.text();
  if (res.status >= 500) return `answered ${status}: ${text.slice(0, 300)}`;
  const declared = ref.operation.responses[status];
  if (!declared) return `answered undeclared ${status}: ${text.slice(0, 300)}`;
  const media = (res.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
  if (res.status >= 400 && media !== "application/problem+json") return `answered ${status} as ${media || "no media type"}, not problem+json`;
  if (!declared.content) return text.length === 0 ? null : `answered ${status} with a body where none is declared`;
  if (!declared.content[media]) return `answered ${status} as ${media || "no media type"}; declared: ${Object.keys(declared.content).join(", ")}`;
  if (!media.endsWith("json")) return null;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `answered ${status} with a body that is not JSON`;
  }
  const invalid = validate(ref, status, media, body);
  if (invalid) return `answered ${status} with a body that does not match its schema: ${invalid}; body ${text.slice(0, 300)}`;
  if (res.status >= 400 && (body as { status?: unknown }).status !== res.status) return `problem status ${(body as { status?: unknown }).status} differs from ${status}`;
  return null;
}

/** A stable per-operation seed, so adding an operation does not change what the others are sent. */
function seedFor(operationId: string): number {
  let h = SEED | 0;
  for (const ch of operationId) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h;
}

const short = (req: FuzzRequest) => JSON.stringify(req, (_k, v: unknown) => (typeof v === "string" && v.length > 120 ? `${v.slice(0, 40)}…(${v.length} chars)` : v)).slice(0, 600);

describe("API fuzz over the OpenAPI document", () => {
  it("answers every generated request with a declared status and a body matching its schema, never a 5xx", { timeout: 240_000 }, async () => {
    console.log(`api fuzz: seed ${SEED}, ${RUNS} runs per operation (FUZZ_SEED / FUZZ_RUNS to change)`);
    const validate = responseValidator(doc);
    const all = operationsOf(doc);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const fuzz = async (ref: OperationRef): Promise<void> => {
      const id = ref.operation.operationId;
      const seen = new Set<string>();
      const details = await fc.check(
        fc.asyncProperty(requestArbitrary(ref), async (req) => {
          const res = await send(ref, req);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const problem = await judge(ref, res, validate);
          // One line per distinct kind of failure per operation keeps the report readable.
          const kind = problem?.slice(0, 60);
          if (problem && kind && !seen.has(kind)) {
            seen.add(kind);
            failures.push(`${id} (${ref.method} ${ref.path}) ${problem}\n    request: ${short(req)}`);
          }
          return true;
        }),
        { seed: seedFor(id), numRuns: RUNS },
      );
      // The property only throws when a request could not be made at all (the app died, a bad URL).
      if (details.failed) failures.push(`${id} (${ref.method} ${ref.path}) could not be fuzzed: ${String(details.errorInstance)}`);
    };
    // GETs change nothing: they go first, several operations at a time (each operation's runs stay in order, from
    // its own seed); every other operation then runs alone, in document order, and the fixture-ending ones last.
    const reads = all.filter((r) => r.method === "GET");
    const queue = [...reads];
    await Promise.all(
      Array.from({ length: READ_CONCURRENCY }, async () => {
        for (let ref = queue.shift(); ref; ref = queue.shift()) await fuzz(ref);
      }),
    );
    const writes = all.filter((r) => r.method !== "GET");
    const ordered = [...writes.filter((r) => !LAST.has(r.operation.operationId)), ...writes.filter((r) => LAST.has(r.operation.operationId))];
    for (const ref of ordered) await fuzz(ref);
    // What the requests met, so a fuzzer that only ever reaches 400 or 401 is seen for what it is.
    console.log(`api fuzz: ${all.length} operations; answers by status: ${[...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`).join(" ")}`);
    expect(failures, `seed ${SEED}`).toEqual([]);
  });
});
