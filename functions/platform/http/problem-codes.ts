/**
 * Every problem code the API can answer with, and its status. A code without an entry here does not
 * compile (the `satisfies` below), so each context adds its codes when it adds its errors.
 */
export const problemCatalog = {
  VALIDATION_FAILED: { status: 400, title: "The request is not valid" },
  MALFORMED_JSON: { status: 400, title: "The request body is not valid JSON" },
  INVALID_CURSOR: { status: 400, title: "The pagination cursor is not valid" },
  INVALID_IDEMPOTENCY_KEY: { status: 400, title: "The Idempotency-Key header is not valid" },
  UNAUTHENTICATED: { status: 401, title: "Authentication is required" },
  FORBIDDEN: { status: 403, title: "You may not do this" },
  NOT_FOUND: { status: 404, title: "Not found" },
  ROUTE_NOT_FOUND: { status: 404, title: "No such route" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed on this route" },
  IDEMPOTENCY_KEY_IN_USE: { status: 409, title: "A request with this Idempotency-Key is still in progress" },
  PRECONDITION_FAILED: { status: 412, title: "The resource has changed since you read it" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "The request body is too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported content type" },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: "This Idempotency-Key was used with a different request" },
  RATE_LIMITED: { status: 429, title: "Too many requests" },
  INTERNAL_ERROR: { status: 500, title: "Internal server error" },

  // identity
  EMAIL_TAKEN: { status: 409, title: "An account with this email address exists" },
  INVALID_CREDENTIALS: { status: 401, title: "The email address or password is not correct" },
  LOGIN_THROTTLED: { status: 429, title: "Too many failed sign-ins" },
  ACCOUNT_DISABLED: { status: 403, title: "The account is disabled" },
  INVALID_REFRESH_TOKEN: { status: 401, title: "The refresh token is not valid" },
  REFRESH_TOKEN_REUSED: { status: 401, title: "The refresh token was already used" },
  CURRENT_PASSWORD_INCORRECT: { status: 403, title: "The current password is not correct" },
  USER_NOT_FOUND: { status: 404, title: "No such user" },
  LAST_ADMIN: { status: 409, title: "At least one admin must remain" },
  AUTH_UNAVAILABLE: { status: 503, title: "Sessions cannot be checked right now" },
  SERVICE_UNAVAILABLE: { status: 503, title: "A dependency is unavailable" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof problemCatalog;

export const problemType = (code: ProblemCode): string => `urn:ringlet:problem:${code.toLowerCase().replaceAll("_", "-")}`;
