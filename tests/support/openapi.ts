import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsPlugin from "ajv-formats";
import fc from "fast-check";
import type { RunningApp } from "./app.js";

export type Schema = { [key: string]: unknown };

export interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema: Schema;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema: Schema }>;
}

export interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  "x-access": { kind: string };
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, ResponseObject>;
}

export interface ApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes?: Record<string, Schema> };
}

export interface OperationRef {
  method: string;
  path: string;
  operation: Operation;
}

export async function fetchDocument(app: RunningApp): Promise<ApiDocument> {
  const res = await fetch(`${app.baseUrl}/api/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /api/openapi.json answered ${res.status}`);
  return (await res.json()) as ApiDocument;
}

export function operationsOf(doc: ApiDocument): OperationRef[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })));
}

const pointer = (...keys: string[]) => keys.map((k) => k.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

// ajv-formats is CommonJS: its export is the plugin, which also carries itself as `default` (the typed way in).
const addFormats = addFormatsPlugin.default;

/**
 * Validates answers against the document's own response schemas (JSON Schema 2020-12, as OpenAPI 3.1 has it),
 * `$ref`s resolved inside the document. Unknown keywords (OpenAPI's own members) are not errors.
 */
export function responseValidator(doc: ApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema(doc as unknown as Schema, "openapi");
  const compiled = new Map<string, ValidateFunction>();
  return (ref: OperationRef, status: string, media: string, body: unknown): string | null => {
    const key = `openapi#/${pointer("paths", ref.path, ref.method.toLowerCase(), "responses", status, "content", media, "schema")}`;
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile({ $ref: key });
      compiled.set(key, validate);
    }
    if (validate(body)) return null;
    return ajv.errorsText(validate.errors, { dataVar: "body" });
  };
}

/** The schema a `$ref` points at, or the schema itself. */
export function deref(doc: ApiDocument, schema: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== "string") return schema;
  const name = ref.replace("#/components/schemas/", "");
  const target = doc.components.schemas[name];
  if (!target) throw new Error(`unresolved ${ref}`);
  return deref(doc, target);
}

// Endpoint URLs the app might call (webhooks deliver to them): only a closed loopback port, never anywhere else.
const loopbackUrl = fc.constantFrom("http://127.0.0.1:1/fuzz", "https://127.0.0.1:1/fuzz?x=1", "http://[::1]:1/", "not a url", "ftp://127.0.0.1/", "javascript:alert(1)");
const urlLike = (name: string | undefined) => name !== undefined && /url|uri|endpoint|href|callback/i.test(name);

const typesOf = (schema: Schema): string[] => (Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === "string" ? [schema.type] : []);

/** Values a schema accepts, or nearly: bounds and formats are followed, lengths kept small. */
export function validArbitrary(doc: ApiDocument, raw: Schema, name?: string, depth = 0): fc.Arbitrary<unknown> {
  const schema = deref(doc, raw);
  if (urlLike(name) && typesOf(schema).includes("string")) return typesOf(schema).includes("null") ? fc.option(loopbackUrl, { nil: null }) : loopbackUrl;
  if ("const" in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  for (const key of ["oneOf", "anyOf"] as const) {
    const options = schema[key];
    if (Array.isArray(options)) return fc.oneof(...(options as Schema[]).map((s) => validArbitrary(doc, s, name, depth + 1)));
  }
  if (Array.isArray(schema.allOf)) return validArbitrary(doc, (schema.allOf as Schema[])[0] as Schema, name, depth + 1);
  const types = typesOf(schema);
  if (types.length > 1) return fc.oneof(...types.map((type) => validArbitrary(doc, { ...schema, type }, name, depth + 1)));
  const num = (key: string) => (typeof schema[key] === "number" ? (schema[key] as number) : undefined);
  switch (types[0]) {
    case "string": {
      if (schema.format === "uuid") return fc.uuid();
      if (schema.format === "email") return fc.emailAddress();
      if (schema.format === "date-time") return fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }).map((d) => d.toISOString());
      if (schema.format === "uri") return loopbackUrl;
      if (typeof schema.pattern === "string") return fc.stringMatching(new RegExp(schema.pattern));
      const minLength = num("minLength") ?? 0;
      return fc.string({ minLength, maxLength: Math.max(minLength, Math.min(num("maxLength") ?? 24, 24)) });
    }
    case "integer": {
      const min = num("minimum") ?? (num("exclusiveMinimum") !== undefined ? (num("exclusiveMinimum") as number) + 1 : -1000);
      const max = num("maximum") ?? (num("exclusiveMaximum") !== undefined ? (num("exclusiveMaximum") as number) - 1 : 1000);
      return fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31) });
    }
    case "number": {
      const min = num("minimum") ?? num("exclusiveMinimum") ?? -1000;
      const max = num("maximum") ?? num("exclusiveMaximum") ?? 1000;
      return fc.double({ min, max, noNaN: true, noDefaultInfinity: true, minExcluded: num("exclusiveMinimum") !== undefined });
    }
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      if (depth > 6) return fc.constant([]);
      const items = schema.items ? validArbitrary(doc, schema.items as Schema, name, depth + 1) : fc.jsonValue({ maxDepth: 1 });
      const minLength = num("minItems") ?? 0;
      return fc.array(items, { minLength, maxLength: Math.max(minLength, Math.min(num("maxItems") ?? 3, 3)) });
    }
    case "object": {
      if (depth > 6) return fc.constant({});
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      if (Object.keys(properties).length === 0 && typeof schema.additionalProperties === "object") {
        return fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), validArbitrary(doc, schema.additionalProperties as Schema, undefined, depth + 1), { maxKeys: 3 });
      }
      const shape = Object.fromEntries(Object.entries(properties).map(([key, s]) => [key, validArbitrary(doc, s, key, depth + 1)]));
      return fc.record(shape, { requiredKeys: required.filter((key) => key in shape) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const nested = (levels: number): unknown => {
  let value: unknown = "deep";
  for (let i = 0; i < levels; i++) value = i % 2 ? { a: value } : [value];
  return value;
};

/** Values no schema here should accept, or that test the edges of those that do. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom("\u0000", "a\u0000b", "\ud800", "x\udfffy", "\uffff\ufffe", "'; drop table users; --", "../../etc/passwd", "%00", "%ff", "${7*7}", " ", ""),
  fc.constantFrom(2_000, 70_000).map((n) => "x".repeat(n)),
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, -(2 ** 63), 5e-324, -0, 2 ** 31, 2 ** 63, 0.5),
  fc.constantFrom(null, true, false, [], {}, "0", "true", [null], { a: 1 }),
  fc.constantFrom(65, 300).map(nested),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** A valid value with one thing wrong: a field missing, an extra field, or one value replaced by a hostile one. */
export function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, hostileValue, fc.nat(), fc.constantFrom("replace", "drop", "extra", "whole")).map(([value, bad, pick, how]) => {
    if (how === "whole" || value === null || typeof value !== "object") return bad;
    const copy = structuredClone(value) as Record<string, unknown>;
    const paths = leafPaths(copy);
    const path = paths[pick % Math.max(paths.length, 1)] ?? [];
    const parent = path.slice(0, -1).reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, copy);
    const last = path[path.length - 1];
    if (how === "extra") parent[`extra${pick % 7}`] = bad;
    else if (last === undefined) return bad;
    else if (how === "drop" && !Array.isArray(parent)) delete parent[last];
    else parent[last] = bad;
    return copy;
  });
}

function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== "object") return [prefix];
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return [prefix];
  return [prefix, ...entries.flatMap(([k, v]) => leafPaths(v, [...prefix, k]))];
}
