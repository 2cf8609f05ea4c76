import { describe, expect, it } from "vitest";
import { queryValues, requestUrl } from "../src/http-rpc.js";

// requestUrl skips the URL parser for plain targets; whatever path it takes, the answer must be the parser's.
describe("requestUrl", () => {
  const targets = [
    "/",
    "/api/health",
    "/api/v1/orders/0b9f6a6e-8d6f-4a35-9d35-7d1b8a0c2f11?include=lines&x=1&x=2",
    "/api/items/a%20b?q=caf%C3%A9",
    "/api/x?",
    "/api/x?a=b?c",
    "/api/it's?q=it's",
    "/api/a/./b",
    "/api/a/../b",
    "/api/%2e%2E/b",
    "/api/.well-known/x",
    "//evil.example/x",
    "/api/{braces}|pipe^caret`tick",
    '/api/q?a="quoted"&b=<x>',
    "/api/ünïcode?ä=ö",
    "/api/back\\slash",
    "/api/x?a[]=1&b=%zz",
    "http://other.example/abs?x=1",
  ];
  const hosts = ["127.0.0.1:7071", "localhost", "localhost:80", "LOCALHOST:7071", "Example.COM", "app.example.com:8443", "127.1:3000", "0x7f.0.0.1", "10.0.0.01", "[::1]:7071", "xn--nxasmq6b.example", "host:65535", "a-b.c-d"];

  it("gives the href, pathname and search the URL parser gives", () => {
    for (const target of targets) {
      for (const host of hosts) {
        let expected: URL;
        try {
          expected = new URL(target, `http://${host}`);
        } catch {
          expect(() => requestUrl(target, host)).toThrow();
          continue;
        }
        const url = requestUrl(target, host);
        expect({ target, host, href: url.href, pathname: url.pathname, search: url.search }).toEqual({
          target,
          host,
          href: expected.href,
          pathname: expected.pathname,
          search: expected.search,
        });
        expect(queryValues(url)).toEqual(queryValues(expected));
      }
    }
  });

  it("does without the parser for the targets requests usually have", () => {
    expect(requestUrl("/api/health", "127.0.0.1:7071")).not.toBeInstanceOf(URL);
    expect(requestUrl("/api/v1/orders?page=2", "localhost:7071")).not.toBeInstanceOf(URL);
  });
});
