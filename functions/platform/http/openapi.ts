import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { describeAccess } from "./access.js";
import { problemCatalog } from "./problem-codes.js";
import { problemSchema } from "./problem.js";
import { type RouteDeclaration, declaredRoutes } from "./route-registry.js";

const problemContent = { "application/problem+json": { schema: problemSchema } };

/** Problems the route helper itself may answer with, added to every operation that can meet them. */
function helperProblems(route: RouteDeclaration): RouteConfig["responses"] {
  const responses: RouteConfig["responses"] = {
    500: { description: problemCatalog.INTERNAL_ERROR.title, content: problemContent },
  };
  if (route.params || route.query || route.body) {
    responses[400] = { description: "Validation failed (`VALIDATION_FAILED`, `MALFORMED_JSON`, ...)", content: problemContent };
  }
  if (route.body) {
    responses[413] = { description: problemCatalog.PAYLOAD_TOO_LARGE.title, content: problemContent };
    responses[415] = { description: problemCatalog.UNSUPPORTED_MEDIA_TYPE.title, content: problemContent };
  }
  if (route.idempotent) {
    responses[409] = { description: problemCatalog.IDEMPOTENCY_KEY_IN_USE.title, content: problemContent };
    responses[422] = { description: problemCatalog.IDEMPOTENCY_KEY_REUSED.title, content: problemContent };
  }
  if (route.conditional === "update") {
    responses[412] = { description: problemCatalog.PRECONDITION_FAILED.title, content: problemContent };
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

function operation(route: RouteDeclaration): RouteConfig {
  const responses = helperProblems(route);
  for (const [status, declared] of Object.entries(route.responses)) {
    const code = Number(status);
    const media = declared.contentType ?? (code >= 400 ? "application/problem+json" : "application/json");
    const schema = declared.body ?? (code >= 400 ? problemSchema : undefined);
    responses[code] = {
      description: declared.description,
      ...(schema ? { content: { [media]: { schema } } } : declared.contentType ? { content: { [media]: { schema: z.string() } } } : {}),
    };
  }
  const headers = headersOf(route);
  return {
    method: route.method.toLowerCase() as RouteConfig["method"],
    path: route.path,
    operationId: route.name,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: route.tags ?? [],
    "x-access": describeAccess(route.access),
    request: {
      ...(route.params ? { params: route.params } : {}),
      ...(route.query ? { query: route.query } : {}),
      ...(headers ? { headers } : {}),
      ...(route.body ? { body: { required: true, content: { "application/json": { schema: route.body } } } } : {}),
    },
    responses,
  };
}

/** The OpenAPI 3.1 document, generated from the same declarations and zod schemas that validate requests. */
export function openApiDocument(info: { title: string; version: string }) {
  const registry = new OpenAPIRegistry();
  for (const route of declaredRoutes()) {
    if (!route.hidden) registry.registerPath(operation(route));
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: { ...info, description: "Ringlet: a serverless learning management system on Azure Functions." },
    servers: [{ url: "/api" }],
  });
}
