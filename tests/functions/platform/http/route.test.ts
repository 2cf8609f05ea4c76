import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, repoRoot, type RunningApp, startApp } from "../../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../../support/database.js";
import { errorPaths, expectProblem } from "../../../support/problems.js";

let db: TestDatabase;
let app: RunningApp;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({
    appRoot: join(repoRoot, "tests", "fixtures", "http-app"),
    nodeArgs: ["--import", "tsx"],
    env: { DATABASE_URL: db.url },
  });
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${app.baseUrl}/api${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

const countCreated = async (action = "thing.created") =>
  Number((await db.sql`select count(*)::int as n from audit_log where action = ${action}`)[0]?.n);

describe("request validation", () => {
  it("answers malformed JSON with 400 MALFORMED_JSON", async () => {
    await expectProblem(await post("/v1/things", "{ name: nope"), 400, "MALFORMED_JSON");
  });

  it("names each invalid field with its path", async () => {
    const problem = await expectProblem(
      await post("/v1/things", JSON.stringify({ name: 12, size: -1, tags: ["ok", 3] })),
      400,
      "VALIDATION_FAILED",
    );
    const paths = errorPaths(problem).sort();
    expect(paths).toEqual(["body.name", "body.size", "body.tags.1"]);
  });

  it("refuses unknown fields at the top and nested", async () => {
    const top = await expectProblem(
      await post("/v1/things", JSON.stringify({ name: "a", size: 1, colour: "red" })),
      400,
      "VALIDATION_FAILED",
    );
    expect(top.errors).toEqual([{ path: "body.colour", message: "unknown field" }]);
    const nested = await expectProblem(
      await post("/v1/things", JSON.stringify({ name: "a", size: 1, nested: { flag: true, extra: 1 } })),
      400,
      "VALIDATION_FAILED",
    );
    expect(nested.errors).toEqual([{ path: "body.nested.extra", message: "unknown field" }]);
  });

  it("strips unknown fields where the route opts to", async () => {
    const res = await post("/v1/echo", JSON.stringify({ text: "hi", extra: true }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ text: "hi" });
  });

  it("requires a body where the route declares one", async () => {
    const problem = await expectProblem(await post("/v1/things", ""), 400, "VALIDATION_FAILED");
    expect(problem.errors).toEqual([{ path: "body", message: expect.any(String) }]);
  });

  it("refuses a body that is not JSON with 415", async () => {
    await expectProblem(await post("/v1/echo", "text=hi", { "content-type": "application/x-www-form-urlencoded" }), 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("refuses an oversized body with 413, by declared length and by actual size", async () => {
    await expectProblem(await post("/v1/echo", JSON.stringify({ text: "x".repeat(2000) })), 413, "PAYLOAD_TOO_LARGE");
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(`{"text":"${"y".repeat(3000)}"}`));
        controller.close();
      },
    });
    const res = await fetch(`${app.baseUrl}/api/v1/echo`, {
      method: "POST",
      body: chunked,
      headers: { "content-type": "application/json" },
      duplex: "half",
    } as RequestInit);
    await expectProblem(res, 413, "PAYLOAD_TOO_LARGE");
  });

  it("validates route params and query strings", async () => {
    const param = await expectProblem(await fetch(`${app.baseUrl}/api/v1/docs/not-a-uuid`), 400, "VALIDATION_FAILED");
    expect(param.errors).toEqual([{ path: "params.docId", message: expect.any(String) }]);
    const query = await expectProblem(await fetch(`${app.baseUrl}/api/v1/numbers?limit=1000`), 400, "VALIDATION_FAILED");
    expect(query.errors).toEqual([{ path: "query.limit", message: expect.any(String) }]);
  });

  it("refuses text the database cannot store (NUL, unpaired surrogates, invalid UTF-8) with 400 naming the field, and writes nothing", async () => {
    const before = await countCreated();
    const nul = await expectProblem(await post("/v1/things", JSON.stringify({ name: "a\u0000b", size: 1 })), 400, "VALIDATION_FAILED");
    expect(nul.errors).toEqual([{ path: "body.name", message: expect.stringMatching(/NUL/) }]);
    const surrogate = await expectProblem(await post("/v1/things", '{"name":"ok","size":1,"tags":["\\ud800"]}'), 400, "VALIDATION_FAILED");
    expect(surrogate.errors).toEqual([{ path: "body.tags.0", message: expect.any(String) }]);
    const key = await expectProblem(await post("/v1/things", '{"name":"ok","size":1,"a\\u0000":1}'), 400, "VALIDATION_FAILED");
    expect(key.errors).toEqual([{ path: "body.a\\u0000", message: expect.stringMatching(/field name/) }]);
    const bytes = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","size":1}')]);
    const utf8 = await fetch(`${app.baseUrl}/api/v1/things`, { method: "POST", body: bytes, headers: { "content-type": "application/json" } });
    await expectProblem(utf8, 400, "MALFORMED_JSON");
    const query = await expectProblem(await fetch(`${app.baseUrl}/api/v1/numbers?limit=%00`), 400, "VALIDATION_FAILED");
    expect(query.errors).toEqual([{ path: "query.limit", message: expect.stringMatching(/NUL/) }]);
    // A well-formed pair (an emoji) is ordinary text.
    expect((await post("/v1/things", JSON.stringify({ name: "\u{1F600}", size: 1 }))).status).toBe(201);
    expect(await countCreated()).toBe(before + 1);
  });

  it("refuses a body nested deeper than 64 levels without choking on 100,000 levels", async () => {
    const deep = (n: number) => `{"name":"a","size":1,"nested":${"[".repeat(n)}${"]".repeat(n)}}`;
    const problem = await expectProblem(await post("/v1/things", deep(100_000)), 400, "VALIDATION_FAILED");
    expect(problem.errors).toEqual([{ path: expect.stringMatching(/^body\.nested/), message: expect.stringMatching(/deeper than 64/) }]);
    expect((await fetch(`${app.baseUrl}/api/v1/numbers`)).status).toBe(200);
  });
});

describe("routing problems", () => {
  it("answers an unknown route with 404 problem+json", async () => {
    await expectProblem(await fetch(`${app.baseUrl}/api/v1/nowhere/at/all`), 404, "ROUTE_NOT_FOUND");
  });

  it("answers a known path with the wrong method with 405 and Allow", async () => {
    const res = await fetch(`${app.baseUrl}/api/v1/things`, { method: "DELETE" });
    await expectProblem(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("answers a handler fault with a bare 500 that leaks nothing, and keeps serving", async () => {
    const res = await fetch(`${app.baseUrl}/api/v1/boom`);
    const problem = await expectProblem(res, 500, "INTERNAL_ERROR");
    expect(JSON.stringify(problem)).not.toContain("secret internal detail");
    expect((await fetch(`${app.baseUrl}/api/v1/numbers`)).status).toBe(200);
  });

  it("carries the caller's x-request-id into the answer", async () => {
    const res = await fetch(`${app.baseUrl}/api/v1/nowhere`, { headers: { "x-request-id": "req-123" } });
    expect(res.headers.get("x-request-id")).toBe("req-123");
    expect((await jsonOf(res)).requestId).toBe("req-123");
  });
});

describe("cursor pagination", () => {
  it("walks every item once, in order, following Link rel=next", async () => {
    const seen: number[] = [];
    let url: string | null = `/api/v1/numbers?total=45&limit=20`;
    let pages = 0;
    while (url) {
      const res: Response = await fetch(`${app.baseUrl}${url}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: number[]; nextCursor: string | null };
      seen.push(...body.items);
      pages += 1;
      const link = res.headers.get("link");
      if (body.nextCursor) expect(link).toMatch(/; rel="next"$/);
      else expect(link).toBeNull();
      url = link ? (/^<([^>]+)>/.exec(link)?.[1] ?? null) : null;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
  });

  it("defaults to 20 items and refuses a cursor it did not issue", async () => {
    const body = (await (await fetch(`${app.baseUrl}/api/v1/numbers`)).json()) as { items: number[] };
    expect(body.items).toHaveLength(20);
    await expectProblem(await fetch(`${app.baseUrl}/api/v1/numbers?cursor=garbage!!`), 400, "INVALID_CURSOR");
  });
});

describe("ETags", () => {
  const docUrl = () => `${app.baseUrl}/api/v1/docs/0b8e8f0e-3a5e-4f1e-9a34-2f4b7d1f0c11`;

  it("answers If-None-Match with 304 while the resource is unchanged", async () => {
    const first = await fetch(docUrl());
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^".+"$/);
    const again = await fetch(docUrl(), { headers: { "if-none-match": etag as string } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  it("refuses an update with a stale If-Match with 412", async () => {
    const etag = (await fetch(docUrl())).headers.get("etag") as string;
    const patch = (ifMatch: string) =>
      fetch(docUrl(), { method: "PATCH", body: JSON.stringify({ title: "t" }), headers: { "content-type": "application/json", "if-match": ifMatch } });
    const ok = await patch(etag);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("etag")).not.toBe(etag);
    await expectProblem(await patch(etag), 412, "PRECONDITION_FAILED");
  });
});

describe("Idempotency-Key", () => {
  it("replays the first response for a retry and writes once", async () => {
    const before = await countCreated();
    const body = JSON.stringify({ name: "retry", size: 1 });
    const first = await post("/v1/things", body, { "idempotency-key": "key-retry-1" });
    expect(first.status).toBe(201);
    const firstBody = await first.json();
    const second = await post("/v1/things", body, { "idempotency-key": "key-retry-1" });
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.headers.get("location")).toBe(first.headers.get("location"));
    expect(await second.json()).toEqual(firstBody);
    expect(await countCreated()).toBe(before + 1);
  });

  it("runs concurrent duplicates once", async () => {
    const before = await countCreated();
    const body = JSON.stringify({ name: "race", size: 2 });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => post("/v1/things", body, { "idempotency-key": "key-race-1" })),
    );
    const bodies = await Promise.all(answers.map((r) => r.json()));
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(await countCreated()).toBe(before + 1);
  });

  it("refuses the same key with a different body with 422", async () => {
    await post("/v1/things", JSON.stringify({ name: "a", size: 1 }), { "idempotency-key": "key-reuse" });
    await expectProblem(
      await post("/v1/things", JSON.stringify({ name: "b", size: 1 }), { "idempotency-key": "key-reuse" }),
      422,
      "IDEMPOTENCY_KEY_REUSED",
    );
  });

  it("refuses a malformed key with 400", async () => {
    await expectProblem(
      await post("/v1/things", JSON.stringify({ name: "a", size: 1 }), { "idempotency-key": "x".repeat(300) }),
      400,
      "INVALID_IDEMPOTENCY_KEY",
    );
  });

  it("keeps neither the write nor the key when the handler fails, so a retry runs again", async () => {
    const body = JSON.stringify({ name: "f" });
    await expectProblem(await post("/v1/things/fail", body, { "idempotency-key": "key-fail" }), 500, "INTERNAL_ERROR");
    await expectProblem(await post("/v1/things/fail", body, { "idempotency-key": "key-fail" }), 500, "INTERNAL_ERROR");
    expect(await countCreated("thing.failed")).toBe(0);
    const keys = await db.sql`select count(*)::int as n from idempotency_keys where key = 'key-fail'`;
    expect(keys[0]?.n).toBe(0);
  });

  it("commits the write only with its stored answer: a failed answer rolls the write back", async () => {
    // The answer is stored by a statement pipelined with the COMMIT: if it fails, the COMMIT must not keep the work.
    await db.sql.unsafe(`
      create or replace function refuse_marked_answer() returns trigger language plpgsql as $$
      begin
        if new.response_body like '%answer-refused%' then raise exception 'answer refused'; end if;
        return new;
      end $$;
      create trigger refuse_marked_answer before update on idempotency_keys for each row execute function refuse_marked_answer();`);
    try {
      const before = await countCreated();
      const body = JSON.stringify({ name: "answer-refused", size: 4 });
      await expectProblem(await post("/v1/things", body, { "idempotency-key": "key-answer-refused" }), 500, "INTERNAL_ERROR");
      expect(await countCreated()).toBe(before);
      const keys = await db.sql`select count(*)::int as n from idempotency_keys where key = 'key-answer-refused'`;
      expect(keys[0]?.n).toBe(0);
    } finally {
      await db.sql.unsafe("drop trigger refuse_marked_answer on idempotency_keys; drop function refuse_marked_answer()");
    }
  });

  it("treats requests without a key as independent", async () => {
    const before = await countCreated();
    const body = JSON.stringify({ name: "nokey", size: 3 });
    await post("/v1/things", body);
    await post("/v1/things", body);
    expect(await countCreated()).toBe(before + 2);
  });
});
