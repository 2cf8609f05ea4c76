import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig, type RouteConfig } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { describeAccess, policyOutcomes, requiresCaller, twoFactorExempt } from "./access.js";
import type { ProblemCode } from "./problem-codes.js";
import { problemSchema } from "./problem.js";
import { type RouteDeclaration, declaredRoutes } from "./route-registry.js";
import { strictBody } from "./route.js";
import { isPersonalRoute } from "./security-headers.js";

type Headers = Exclude<ResponseConfig["headers"], z.ZodObject | undefined>;
type Response = Omit<ResponseConfig, "headers"> & { headers?: Headers };
type Responses = Record<number, Response>;

const problemContent = { "application/problem+json": { schema: problemSchema } };
const codes = (...list: ProblemCode[]) => list.map((c) => `\`${c}\``).join(", ");
const problem = (description: string, headers?: Headers): Response => ({
  description,
  ...(headers ? { headers } : {}),
  content: problemContent,
});
const retryAfter: Headers = { "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" as const } } };

/**
 * Every problem the route helper itself can answer for this route, read from what the helper does (route.ts)
 * and from the access policy (`policyOutcomes` mirrors `decide`), so the document cannot drift from it.
 */
function helperResponses(route: RouteDeclaration): Responses {
  const policy = policyOutcomes(route.access);
  const writes = route.method !== "GET";
  const responses: Responses = {};

  const invalid: ProblemCode[] = [];
  if (route.params || route.query || route.body) invalid.push("VALIDATION_FAILED");
  if (route.body && route.bodyFormat !== "form") invalid.push("MALFORMED_JSON");
  if (route.query?.shape.cursor) invalid.push("INVALID_CURSOR");
  if (route.idempotent) invalid.push("INVALID_IDEMPOTENCY_KEY");
  if (invalid.length > 0) responses[400] = problem(`${codes(...invalid)}: the request is not valid, or holds a value that cannot be stored`);

  // The helper checks a token whenever one is sent, so a bad one is refused on public routes too.
  responses[401] = problem(
    requiresCaller(route.access)
      ? `${codes("UNAUTHENTICATED")}: no access token, or one that is not valid or whose session ended`
      : `${codes("UNAUTHENTICATED")}: an Authorization header was sent and its token is not valid`,
    { "WWW-Authenticate": { description: "The Bearer challenge, with the reason when a token was refused", schema: { type: "string" } } },
  );
  // The helper's own refusal of a caller who owes a second factor (route.ts), then the access policy's.
  const refusals: string[] = [];
  if (requiresCaller(route.access) && !twoFactorExempt(route)) {
    refusals.push(`${codes("TWO_FACTOR_REQUIRED")}: AUTH_TWO_FACTOR_REQUIRED applies to the caller, who has not signed in with a second factor`);
    refusals.push(`${codes("EMAIL_NOT_VERIFIED")}: AUTH_UNVERIFIED_ACCESS is \`none\` and the caller's identity provider has not confirmed their address`);
  }
  if (policy.deny) refusals.push(`${codes("FORBIDDEN")}: the route's access policy refuses the caller`);
  if (refusals.length > 0) responses[403] = problem(refusals.join("; "));
  if (policy.notFound) responses[404] = problem(`${codes("NOT_FOUND")}: what the access check looks up does not exist`);

  const conflicts: ProblemCode[] = [];
  const unprocessable: ProblemCode[] = [];
  if (route.idempotent) {
    conflicts.push("IDEMPOTENCY_KEY_IN_USE");
    unprocessable.push("IDEMPOTENCY_KEY_REUSED");
  }
  // A constraint the database keeps refused the change: the caller's fault, answered by the helper.
  if (writes) {
    conflicts.push("CONFLICT");
    unprocessable.push("UNPROCESSABLE");
  }
  if (conflicts.length > 0) responses[409] = problem(codes(...conflicts));
  if (unprocessable.length > 0) responses[422] = problem(codes(...unprocessable));

  if (route.conditional === "read") responses[304] = { description: "Not modified: the If-None-Match ETag is current" };
  if (route.conditional === "update") responses[412] = problem(`${codes("PRECONDITION_FAILED")}: If-Match names an ETag that is not current`);
  if (route.body) {
    responses[413] = problem(codes("PAYLOAD_TOO_LARGE"));
    responses[415] = problem(codes("UNSUPPORTED_MEDIA_TYPE"));
  }
  responses[500] = problem(codes("INTERNAL_ERROR"));
  // Every route may read the database: to check a sent token if nothing else.
  responses[503] = problem(`${codes("SERVICE_UNAVAILABLE", "AUTH_UNAVAILABLE")}: the database, another backing service or the token issuer cannot be reached now`, retryAfter);
  return responses;
}

/** The route's own declaration of a status, as an OpenAPI response. */
function declaredResponse(code: number, declared: RouteDeclaration["responses"][number]): Response {
  const media = declared.contentType ?? (code >= 400 ? "application/problem+json" : "application/json");
  const schema = declared.body ?? (code >= 400 ? problemSchema : declared.contentType ? z.string() : undefined);
  const others = Object.entries(declared.otherContent ?? {}).map(([type, other]) => [type, { schema: other }]);
  return {
    description: declared.description,
    ...(code === 429 ? { headers: retryAfter } : {}),
    ...(schema ? { content: { [media]: { schema }, ...Object.fromEntries(others) } } : {}),
  };
}

/** One status declared by both: the route's descriptions first, every body either answers with. */
function merged(own: Response, helper: Response): Response {
  return {
    description: `${own.description}; ${helper.description}`,
    ...(own.headers ?? helper.headers ? { headers: own.headers ?? helper.headers } : {}),
    ...(own.content || helper.content ? { content: { ...helper.content, ...own.content } } : {}),
  };
}

function responsesOf(route: RouteDeclaration): Responses {
  const responses = helperResponses(route);
  for (const [status, declared] of Object.entries(route.responses)) {
    const code = Number(status);
    const own = declaredResponse(code, declared);
    const helper = responses[code];
    responses[code] = helper ? merged(own, helper) : own;
  }
  return responses;
}

function headersOf(route: RouteDeclaration): z.ZodObject | undefined {
  const shape: Record<string, z.ZodType> = {};
  if (route.idempotent) {
    shape["Idempotency-Key"] = z.string().max(255).optional().meta({ description: "Retries with the same key replay the first response" });
  }
  if (route.conditional === "read") shape["If-None-Match"] = z.string().optional();
  if (route.conditional === "update") shape["If-Match"] = z.string().optional();
  return Object.keys(shape).length ? z.object(shape) : undefined;
}

/** Who must sign in: a route that needs a caller asks for the bearer token; one that reads it if sent says both. */
function securityOf(route: RouteDeclaration): RouteConfig["security"] {
  if (requiresCaller(route.access)) return [{ bearerAuth: [] }];
  return route.optionalToken ? [{}, { bearerAuth: [] }] : [];
}

function operation(route: RouteDeclaration): RouteConfig {
  const headers = headersOf(route);
  // The body as the helper checks it: unknown top-level fields refused (`additionalProperties: false`).
  const body = route.unknownFields === "strip" ? route.body : strictBody(route.body);
  return {
    method: route.method.toLowerCase() as RouteConfig["method"],
    path: route.path,
    operationId: route.name,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: route.tags ?? [],
    security: securityOf(route),
    "x-access": describeAccess(route.access),
    // Answered `Cache-Control: no-store` (whatever the route sets), so no shared cache keeps who it names.
    "x-personal": isPersonalRoute(route),
    request: {
      ...(route.params ? { params: route.params } : {}),
      ...(route.query ? { query: route.query } : {}),
      ...(headers ? { headers } : {}),
      // An optional body schema (e.g. enrolling yourself) accepts a request without one.
      ...(body ? { body: { required: !body.safeParse(undefined).success, content: { [route.bodyFormat === "form" ? "application/x-www-form-urlencoded" : "application/json"]: { schema: body } } } } : {}),
    },
    responses: responsesOf(route),
  };
}

/** The served document's title and version (GET /api/openapi.json, and the generated client's types). */
export const apiDocumentInfo = { title: "Ringlet API", version: "1" };

/** The OpenAPI 3.1 document, generated from the same declarations and zod schemas that validate requests. */
export function openApiDocument(info: { title: string; version: string }) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "The access token from `POST /v1/auth/login` or `/v1/auth/refresh`, or one from the configured OpenID Connect issuer",
  });
  for (const route of declaredRoutes()) {
    if (!route.hidden) registry.registerPath(operation(route));
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: { ...info, description: "Ringlet: a serverless learning management system on Azure Functions." },
    servers: [{ url: "/api" }],
  });
}
