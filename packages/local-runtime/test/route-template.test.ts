import { describe, expect, it } from "vitest";
import { compareRoutePrecedence, matchRouteTemplate, parseRouteTemplate } from "../src/route-template.js";

const match = (template: string, path: string): Record<string, string> | undefined =>
  matchRouteTemplate(parseRouteTemplate(template), path.split("/").filter(Boolean));

describe("route templates", () => {
  it("matches literals case-insensitively and decodes parameters", () => {
    expect(match("Orders/{orderId}", "orders/a%20b")).toEqual({ orderId: "a b" });
    expect(match("orders/{orderId}", "orders")).toBeUndefined();
    expect(match("orders/{orderId}", "orders/1/extra")).toBeUndefined();
  });

  it("applies inline constraints", () => {
    expect(match("n/{id:int}", "n/12")).toEqual({ id: "12" });
    expect(match("n/{id:int}", "n/9999999999")).toBeUndefined();
    expect(match("n/{id:int:min(5)}", "n/4")).toBeUndefined();
    expect(match("n/{id:range(1,3)}", "n/2")).toEqual({ id: "2" });
    expect(match("n/{code:regex(^[a-z]{{2}}\\d+$)}", "n/ab12")).toEqual({ code: "ab12" });
    expect(match("n/{code:length(3)}", "n/abcd")).toBeUndefined();
    expect(() => parseRouteTemplate("n/{id:nonsense}")).toThrow(/could not be resolved/);
  });

  it("handles optional, default, catch-all and complex segments", () => {
    expect(match("a/{id?}", "a")).toEqual({});
    expect(match("a/{page=1}", "a")).toEqual({ page: "1" });
    expect(match("a/{*rest}", "a")).toEqual({});
    expect(match("a/{**rest}", "a/b/c")).toEqual({ rest: "b/c" });
    expect(match("files/{name}.{ext}", "files/report.final.pdf")).toEqual({ name: "report", ext: "final.pdf" });
    expect(() => parseRouteTemplate("{*rest}/x")).toThrow(/catch-all/);
  });

  it("orders literal before constrained parameter before parameter before catch-all, longer first", () => {
    const templates = ["x/{*rest}", "x/{id}", "x/{id:int}", "x/lit", "x/{id}/more"].map(parseRouteTemplate);
    const ordered = [...templates].sort(compareRoutePrecedence).map((t) => t.text);
    expect(ordered).toEqual(["x/lit", "x/{id:int}", "x/{id}/more", "x/{id}", "x/{*rest}"]);
  });
});
