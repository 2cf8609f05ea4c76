import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { assertIfMatch, etagOf, notModified } from "../../../functions/platform/http/etag.js";
import { decodeCursor, encodeCursor, nextLink, paginate } from "../../../functions/platform/http/pagination.js";
import { fieldErrors, ProblemError, problemResponse } from "../../../functions/platform/http/problem.js";
import { clientAddress, withoutPort } from "../../../functions/platform/http/request-context.js";
import { templateMatches } from "../../../functions/platform/http/route-registry.js";
import { childTrace, parseTraceparent } from "../../../functions/platform/trace-context.js";

const request = (headers: Record<string, string>) => new HttpRequest({ method: "GET", url: "http://localhost/api/x", headers });

describe("problem details", () => {
  it("builds RFC 9457 bodies with a stable code and the request id", () => {
    const ok = problemResponse("PAYLOAD_TOO_LARGE", { detail: "too big", requestId: "r1" });
    expect(ok.status).toBe(413);
    expect(ok.headers).toMatchObject({ "content-type": "application/problem+json" });
    expect(JSON.parse(ok.body as string)).toEqual({
      type: "urn:ringlet:problem:payload-too-large",
      title: "The request body is too large",
      status: 413,
      code: "PAYLOAD_TOO_LARGE",
      detail: "too big",
      requestId: "r1",
    });
  });

  it("formats zod issues as field paths, one per unknown key", () => {
    const schema = z.strictObject({ a: z.object({ b: z.number() }) });
    const result = schema.safeParse({ a: { b: "x" }, c: 1, d: 2 });
    expect(result.success).toBe(false);
    const errors = fieldErrors("body", (result as { error: z.ZodError }).error);
    expect(errors.map((e) => e.path).sort()).toEqual(["body.a.b", "body.c", "body.d"]);
  });
});

describe("ETags", () => {
  it("are stable for the same value and differ for another", () => {
    expect(etagOf({ a: 1 })).toBe(etagOf({ a: 1 }));
    expect(etagOf({ a: 1 })).not.toBe(etagOf({ a: 2 }));
  });

  it("honour If-None-Match lists, weak tags and *", () => {
    const tag = etagOf("v1");
    expect(notModified(request({ "if-none-match": `"other", W/${tag}` }), tag)).toBe(true);
    expect(notModified(request({ "if-none-match": "*" }), tag)).toBe(true);
    expect(notModified(request({ "if-none-match": `"other"` }), tag)).toBe(false);
    expect(notModified(request({}), tag)).toBe(false);
  });

  it("refuse a stale If-Match with PRECONDITION_FAILED and let a current one through", () => {
    const tag = etagOf("v2");
    expect(() => assertIfMatch(request({ "if-match": tag }), tag)).not.toThrow();
    expect(() => assertIfMatch(request({}), tag)).not.toThrow();
    expect(() => assertIfMatch(request({ "if-match": etagOf("v1") }), tag)).toThrow(ProblemError);
    // Weak tags never satisfy If-Match (strong comparison).
    expect(() => assertIfMatch(request({ "if-match": `W/${tag}` }), tag)).toThrow(ProblemError);
  });
});

describe("cursor pagination", () => {
  it("round-trips keyset positions", () => {
    const cursor = encodeCursor(["2026-01-01T00:00:00Z", "id-1"]);
    expect(cursor).not.toContain("id-1");
    expect(decodeCursor(cursor, 2)).toEqual(["2026-01-01T00:00:00Z", "id-1"]);
    expect(decodeCursor(undefined, 2)).toBeUndefined();
  });

  it("refuses garbage and positions of the wrong shape", () => {
    expect(() => decodeCursor("not base64 json", 1)).toThrow(ProblemError);
    expect(() => decodeCursor(encodeCursor([1, 2]), 1)).toThrow(ProblemError);
    expect(() => decodeCursor(Buffer.from('{"a":1}').toString("base64url"), 1)).toThrow(ProblemError);
  });

  it("cuts limit + 1 rows into a page and a next cursor", () => {
    expect(paginate([1, 2, 3], 2, (n) => [n])).toEqual({ items: [1, 2], nextCursor: encodeCursor([2]) });
    expect(paginate([1, 2], 2, (n) => [n])).toEqual({ items: [1, 2], nextCursor: null });
  });

  it("links the next page with the same query", () => {
    expect(nextLink("http://h/api/v1/x?limit=5&cursor=old", "new")).toEqual({ link: '</api/v1/x?limit=5&cursor=new>; rel="next"' });
    expect(nextLink("http://h/api/v1/x", null)).toEqual({});
  });
});

describe("route templates", () => {
  it("match like the host's", () => {
    expect(templateMatches("/v1/courses/{courseId}", "/v1/courses/abc")).toBe(true);
    expect(templateMatches("/v1/courses/{courseId}", "/v1/courses/abc/modules")).toBe(false);
    expect(templateMatches("/v1/courses", "/V1/Courses/")).toBe(true);
    expect(templateMatches("/v1/files/{*rest}", "/v1/files/a/b/c")).toBe(true);
    expect(templateMatches("/v1/a.b/{x}", "/v1/aXb/1")).toBe(false);
  });
});

describe("trace context", () => {
  it("parses valid traceparents and refuses invalid ones", () => {
    const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    expect(parseTraceparent(tp)).toEqual({ traceparent: tp, traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" });
    expect(parseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01")).toBeUndefined();
    expect(parseTraceparent("garbage")).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });

  it("continues the caller's trace with a new span, or starts one", () => {
    const parent = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    const child = childTrace(parent);
    expect(child.traceId).toBe(parent?.traceId);
    expect(child.spanId).not.toBe(parent?.spanId);
    expect(parseTraceparent(childTrace().traceparent)).toBeDefined();
  });
});

describe("client addresses", () => {
  it("drop the port Azure appends, keeping IPv6 intact", () => {
    expect(withoutPort("203.0.113.9:51234")).toBe("203.0.113.9");
    expect(withoutPort("203.0.113.9")).toBe("203.0.113.9");
    expect(withoutPort("[2001:db8::1]:443")).toBe("2001:db8::1");
    expect(withoutPort("2001:db8::1")).toBe("2001:db8::1");
  });

  it("come from the trusted proxy's entry of X-Forwarded-For, never from what the client wrote before it", () => {
    expect(clientAddress("203.0.113.9:51234", 1)).toBe("203.0.113.9");
    expect(clientAddress("6.6.6.6, 203.0.113.9:51234", 1)).toBe("203.0.113.9");
    expect(clientAddress("6.6.6.6, 198.51.100.7, 203.0.113.9:51234", 2)).toBe("198.51.100.7");
    expect(clientAddress("[2001:db8::1]:443", 1)).toBe("2001:db8::1");
    // Fewer entries than trusted hops, or an entry that is no address: no address at all.
    expect(clientAddress("203.0.113.9", 2)).toBeNull();
    expect(clientAddress("6.6.6.6, not-an-address", 1)).toBeNull();
    expect(clientAddress(null, 1)).toBeNull();
  });
});
