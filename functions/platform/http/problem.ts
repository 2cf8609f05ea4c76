import type { HttpResponseInit } from "@azure/functions";
import { z } from "zod";
import type { DomainError } from "../../../domain/shared/result.js";
import { type ProblemCode, problemCatalog, problemType } from "./problem-codes.js";

export const fieldErrorSchema = z.object({
  path: z.string().meta({ description: "Where the problem is: `body.email`, `query.limit`, `params.courseId`" }),
  message: z.string(),
});
export type FieldError = z.infer<typeof fieldErrorSchema>;

/** RFC 9457 problem details, with a stable `code` and the request id. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    code: z.string().meta({ description: "Stable, machine-readable code such as VALIDATION_FAILED" }),
    requestId: z.string().optional(),
    errors: z.array(fieldErrorSchema).optional(),
  })
  .meta({ id: "Problem" });
export type Problem = z.infer<typeof problemSchema>;

export interface ProblemOptions {
  detail?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Extra non-sensitive members (e.g. `position`, `missing`). */
  extensions?: Record<string, unknown>;
}

/** Thrown inside the HTTP layer to answer with a problem; handlers return domain results instead. */
export class ProblemError extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly options: ProblemOptions = {},
  ) {
    super(options.detail ?? problemCatalog[code].title);
    this.name = "ProblemError";
  }
}

export function problemResponse(code: ProblemCode, options: ProblemOptions & { requestId?: string } = {}): HttpResponseInit {
  const { status, title } = problemCatalog[code];
  const body: Problem & Record<string, unknown> = {
    ...options.extensions,
    type: problemType(code),
    title,
    status,
    code,
    ...(options.detail ? { detail: options.detail } : {}),
    ...(options.requestId ? { requestId: options.requestId } : {}),
    ...(options.errors ? { errors: options.errors } : {}),
  };
  return {
    status,
    headers: { "content-type": "application/problem+json", ...options.headers },
    body: JSON.stringify(body),
  };
}

/** zod issues → `errors[]` with a dotted path prefixed by where the value came from. */
export function fieldErrors(source: "body" | "query" | "params" | "headers", error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [undefined];
    return keys.map((key) => ({
      path: [source, ...issue.path, ...(key === undefined ? [] : [key])].map(String).join("."),
      message: issue.code === "unrecognized_keys" ? "unknown field" : issue.message,
    }));
  }).flat();
}

/**
 * A domain outcome as a problem. Only codes in the catalog are accepted, so a domain code without a
 * mapping does not compile. `retryAfterSeconds` becomes a Retry-After header.
 */
export function domainProblem(error: DomainError<ProblemCode>): ProblemError {
  const retryAfter = error.extensions?.retryAfterSeconds;
  return new ProblemError(error.code, {
    ...(error.detail ? { detail: error.detail } : {}),
    ...(error.extensions ? { extensions: error.extensions } : {}),
    ...(typeof retryAfter === "number" ? { headers: { "retry-after": String(retryAfter) } } : {}),
  });
}

/** The value of a successful domain result, or the problem its error maps to. */
export function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: DomainError<ProblemCode> }): T {
  if (result.ok) return result.value;
  throw domainProblem(result.error);
}
