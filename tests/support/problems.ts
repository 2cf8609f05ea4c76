import { expect } from "vitest";
import type { Problem } from "../../functions/platform/http/problem.js";
import type { ProblemCode } from "../../functions/platform/http/problem-codes.js";

/** A problem body as a test reads it: the RFC 9457 members plus any extensions (`position`, `missing`). */
export type ProblemBody = Problem & Record<string, unknown>;

/**
 * Asserts an RFC 9457 answer: the status (with the body in the failure message), the problem+json media type,
 * a body whose status, code, type and title are set, and the request id the response header carries. Returns the
 * body for assertions on its details.
 */
export async function expectProblem(res: Response, status: number, code: ProblemCode): Promise<ProblemBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(text) as ProblemBody;
  expect(problem).toMatchObject({ status, code, type: expect.stringMatching(/^urn:ringlet:problem:/), title: expect.any(String) });
  expect(problem.requestId).toBe(res.headers.get("x-request-id"));
  return problem;
}

/** The paths a validation problem names (`body.email`, `query.limit`). */
export const errorPaths = (problem: ProblemBody): string[] => (problem.errors ?? []).map((e) => e.path);

/** Asserts a 400 VALIDATION_FAILED problem that names `path` among its errors. */
export async function expectValidationProblem(res: Response, path: string): Promise<ProblemBody> {
  const problem = await expectProblem(res, 400, "VALIDATION_FAILED");
  expect(errorPaths(problem)).toContain(path);
  return problem;
}
