import { app, type FunctionInput, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { z } from "zod";
import type { Executor, Transaction } from "../../../domain/db/client.js";
import { sendRecordedEmails } from "../email-dispatch.js";
import { sendRecordedChannelMessagesSoon } from "../channel-dispatch.js";
import { type Platform, platform } from "../platform.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import { authenticate } from "../auth/authenticate.js";
import type { CourseRole } from "../../../domain/db/schema/index.js";
import { courseRoleOf } from "../../../domain/identity/caller.js";
import { type AccessPolicy, anonymous, type CallerPolicy, decide, type Principal, requiresCaller, twoFactorExempt } from "./access.js";
import { parseFormBody, parseJsonBody, readBody } from "./body.js";
import { unstorableInput } from "./storable-input.js";
import { classifyDependencyError } from "./dependency-errors.js";
import { claimIdempotencyKey, completeIdempotencyKey, idempotencyKeyOf, replay, requestHash, type StoredResponse } from "./idempotency.js";
import { fieldErrors, ProblemError, problemResponse } from "./problem.js";
import { type RequestMeta, requestMeta } from "./request-context.js";
import { edgeHeaders, isPersonalRoute } from "./security-headers.js";
import { recordRoute, type RouteDeclaration } from "./route-registry.js";

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<P, Q, B> {
  params: Infer<P>;
  query: Infer<Q>;
  body: Infer<B>;
  request: HttpRequest;
}

/** The signed-in caller of a request. */
export interface Caller {
  userId: string;
  isAdmin: boolean;
  /** Holds the `finance` role (the bursar); admins may do everything it may. */
  isFinance: boolean;
  /** The session (refresh-token family) of a local access token. */
  sessionId: string | null;
  /** The caller's role in a course, read once per course per request (the access check's read included). */
  roleIn(courseId: string): Promise<CourseRole | null>;
}

export interface RouteContext extends RequestMeta {
  principal: Principal;
  /** The signed-in caller; null for an anonymous call, which only a public route lets through. */
  caller: Caller | null;
  platform: Platform;
  /** The pool, or the request's transaction on idempotent routes so the stored response commits with the change. */
  db: Executor;
  /**
   * Runs `fn` in a transaction: the request's own when it has one (idempotent routes), else a new one. No
   * savepoint is made in the request's transaction: a failure there ends the whole request anyway, and a
   * savepoint would cost two more round trips, the release one inside whatever locks `fn` took.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Runs after the request's writes are committed (e.g. asking the outbox relay to publish now). */
  afterCommit(fn: () => Promise<void>): void;
  now(): Date;
  /** The context domain operations take: `db` (the request's by default), clock, ids and the actor. */
  domain(db?: Executor): DomainContext;
  /** The Functions invocation, for extra input bindings (e.g. the durable client). */
  invocation: InvocationContext;
}

/** The context of a route whose access policy needs a caller: the caller is there. */
export interface CallerRouteContext extends RouteContext {
  caller: Caller;
}

/** Not distributed over a union: a policy that might be public (`AccessPolicy`) gets the nullable caller. */
export type RouteContextFor<A extends AccessPolicy> = [A] extends [CallerPolicy] ? CallerRouteContext : RouteContext;

/** A JSON answer (`body` serialised), or a raw Functions response for HTML, files and redirects. */
export type RouteResult = { status: number; body?: unknown; headers?: Record<string, string | undefined> } | { raw: HttpResponseInit };

export interface RouteSpec<
  P extends z.ZodObject | undefined,
  Q extends z.ZodObject | undefined,
  B extends z.ZodType | undefined,
  A extends AccessPolicy = AccessPolicy,
> extends Omit<RouteDeclaration, "params" | "query" | "body" | "access"> {
  access: A;
  /** Extra input bindings for the handler (read through `ctx.invocation`). */
  extraInputs?: FunctionInput[];
  params?: P;
  query?: Q;
  body?: B;
  handler(input: RouteInput<P, Q, B>, ctx: RouteContextFor<A>): Promise<RouteResult>;
}

/**
 * Declares and registers one HTTP function. Validation, access, body limits, problem answers,
 * idempotency and logging happen here so handlers stay a few lines long.
 */
export function route<
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  A extends AccessPolicy = AccessPolicy,
>(spec: RouteSpec<P, Q, B, A>): void {
  const { handler, extraInputs, ...declaration } = spec;
  recordRoute(declaration);
  const bodySchema = spec.unknownFields === "strip" ? spec.body : strictBody(spec.body);
  const personalRoute = isPersonalRoute(spec);
  // Fixed per route: worked out once, not on every request.
  const needsCaller = requiresCaller(spec.access);
  const holdsOwedCallers = needsCaller && !twoFactorExempt(spec);
  const anonymousIfOwing = !needsCaller && !twoFactorExempt(spec);

  app.http(spec.name, {
    methods: [spec.method],
    // The host's route prefix is empty (the web app is served at /): the API keeps its /api prefix here.
    route: `api/${spec.path.replace(/^\//, "")}`,
    authLevel: "anonymous",
    ...(extraInputs ? { extraInputs } : {}),
    handler: async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
      const p = platform();
      const meta = requestMeta(request, context, p.settings);
      const started = performance.now();
      const afterCommit: (() => Promise<void>)[] = [];
      let eventsRecorded = false;
      const emailIds: string[] = [];
      const channelIds: string[] = [];
      let response: HttpResponseInit;
      try {
        const domainFor = (db: Executor, principal: Principal): DomainContext => ({
          db,
          now: p.clock,
          newId: p.newId,
          actor: { userId: principal.userId, requestId: meta.requestId, clientIp: meta.clientIp, traceparent: meta.trace.traceparent },
          paymentHoldHours: p.settings.PAYMENT_HOLD_HOURS,
          onEventRecorded: () => {
            eventsRecorded = true;
          },
          onEmailsRecorded: (ids) => {
            emailIds.push(...ids);
          },
          onChannelMessagesRecorded: (ids) => {
            channelIds.push(...ids);
          },
        });
        // 401 before anything else is looked at; a token, when sent, must be valid even on public routes.
        const authenticated =
          request.headers.has("authorization") || needsCaller
            ? await authenticate(request, await p.accessTokens, domainFor(p.database.db, anonymous), {
                twoFactorRule: p.settings.AUTH_TWO_FACTOR_REQUIRED,
                unverifiedAccess: p.settings.AUTH_UNVERIFIED_ACCESS,
              })
            : anonymous;
        // A caller that still owes a second factor (or, external, a confirmed address) keeps no powers on a public
        // route either (an admin's token would read a draft course): there it is anonymous. Routes that need a
        // caller answer TWO_FACTOR_REQUIRED or EMAIL_NOT_VERIFIED below.
        const owes = authenticated.twoFactorPending || authenticated.emailUnverified;
        const principal = owes && anonymousIfOwing ? anonymous : authenticated;
        if (!principal.userId && needsCaller) {
          throw new ProblemError("UNAUTHENTICATED", { detail: "Sign in and send the access token as Authorization: Bearer <token>.", headers: { "www-authenticate": "Bearer" } });
        }
        if (principal.twoFactorPending && holdsOwedCallers) throw new ProblemError("TWO_FACTOR_REQUIRED", { detail: TWO_FACTOR_REQUIRED_DETAIL });
        if (principal.emailUnverified && holdsOwedCallers) throw new ProblemError("EMAIL_NOT_VERIFIED", { detail: EXTERNAL_EMAIL_NOT_VERIFIED_DETAIL });
        // One read per course per request: the access check's, reused by the handler.
        const roles = new Map<string, Promise<CourseRole | null>>();
        const roleIn = (db: Executor, userId: string, courseId: string): Promise<CourseRole | null> => {
          let role = roles.get(courseId);
          if (!role) {
            role = courseRoleOf(db, userId, courseId);
            roles.set(courseId, role);
          }
          return role;
        };
        const callerOn = (db: Executor): Caller | null => {
          const { userId } = principal;
          return userId ? { userId, isAdmin: principal.isAdmin, isFinance: principal.isFinance === true, sessionId: principal.sessionId, roleIn: (courseId) => roleIn(db, userId, courseId) } : null;
        };
        const params = parsePart(spec.params, request.params, "params");
        const { userId } = principal;
        const roleOnPool = userId ? (courseId: string) => roleIn(p.database.db, userId, courseId) : undefined;
        const decision = await decide(spec.access, principal, (params ?? {}) as Record<string, unknown>, p.database.db, roleOnPool);
        if (decision === "not-found") throw new ProblemError("NOT_FOUND");
        if (decision === "deny") throw new ProblemError("FORBIDDEN");
        const query = parsePart(spec.query, queryObject(request.query), "query");
        let raw: Buffer = Buffer.alloc(0);
        let body: unknown;
        if (bodySchema) {
          raw = await readBody(request, spec.bodyLimitBytes ?? p.settings.HTTP_MAX_BODY_BYTES);
          body = parsePart(bodySchema, spec.bodyFormat === "form" ? await parseFormBody(request, raw) : parseJsonBody(request, raw), "body");
        }
        const input = { params, query, body, request } as RouteInput<P, Q, B>;
        // Typed for the handler by its policy; sound because requiresCaller answered 401 above when it needs a caller.
        const routeContext = (tx: Transaction | undefined) =>
          ({
            ...meta,
            principal,
            caller: callerOn(tx ?? p.database.db),
            platform: p,
            db: tx ?? p.database.db,
            transaction: (fn) => (tx ? fn(tx) : p.database.db.transaction(fn)),
            afterCommit: (fn) => afterCommit.push(fn),
            now: p.clock,
            domain: (db) => domainFor(db ?? tx ?? p.database.db, principal),
            invocation: context,
          }) satisfies RouteContext as RouteContextFor<A>;

        const key = spec.idempotent ? idempotencyKeyOf(request.headers.get("idempotency-key")) : undefined;
        if (key === undefined) {
          response = toHttpResponse(await handler(input, routeContext(undefined)));
        } else {
          const now = p.clock();
          const claim = {
            scope: `${spec.name}:${principal.userId ?? "anonymous"}`,
            key,
            hash: requestHash(request.method, new URL(request.url).pathname, raw),
            now,
            expiresAt: new Date(now.getTime() + p.settings.IDEMPOTENCY_TTL_HOURS * 3_600_000),
          };
          response = await p.database.db.transaction(async (tx) => {
            const stored = await claimIdempotencyKey(tx, claim);
            if (stored) return replay(stored);
            const fresh = toHttpResponse(await handler(input, routeContext(tx)));
            // A server fault is not an answer worth replaying: roll the claim back with the work.
            if ((fresh.status ?? 200) >= 500) throw new ServerFaultResponse(fresh);
            await completeIdempotencyKey(tx, claim, storable(fresh));
            return fresh;
          });
        }
        // Events were committed: publish them now rather than at the next sweep, without holding the answer.
        if (eventsRecorded) p.relay.kick(meta.log);
        for (const fn of afterCommit) {
          await fn().catch((err: unknown) => meta.log.warn("after-commit step failed", { err }));
        }
      } catch (err) {
        response = errorResponse(err, meta);
      }
      // Emails go out after the answer, not before: a caller must not learn from its timing whether one was
      // sent (a password reset for an unknown address answers as fast). A refusal may have committed one too (a
      // replayed code's notice); one whose transaction rolled back has no row, and sending it finds nothing.
      // What is not sent now, the retry timer sends.
      if (emailIds.length > 0) void sendRecordedEmails(p, meta.log, { ids: emailIds.splice(0) }).catch((err: unknown) => meta.log.warn("sending emails after commit failed", { err }));
      if (channelIds.length > 0) sendRecordedChannelMessagesSoon(p, meta.log, channelIds.splice(0));
      const status = response.status ?? 200;
      response.headers = edgeHeaders(request, response, { corsOrigins: p.settings.CORS_ALLOWED_ORIGINS, requestId: meta.requestId, personalRoute });
      meta.log[status >= 500 ? "error" : "debug"]("request completed", {
        method: request.method,
        route: spec.name,
        status,
        durationMs: Math.round(performance.now() - started),
      });
      return response;
    },
  });
}

/** Unknown top-level body fields are refused: an object body (optional or not) is made strict (the API document says so too). */
export function strictBody(schema: z.ZodType | undefined): z.ZodType | undefined {
  if (schema instanceof z.ZodObject) return schema.strict();
  if (schema instanceof z.ZodOptional && schema.unwrap() instanceof z.ZodObject) return (schema.unwrap() as z.ZodObject).strict().optional();
  return schema;
}

const TWO_FACTOR_REQUIRED_DETAIL =
  "Your account must sign in with a second factor: enroll at POST /api/v1/me/two-factor, then sign in again with a code " +
  "(with an identity provider's token: sign in there with a second factor).";

const EXTERNAL_EMAIL_NOT_VERIFIED_DETAIL = "Your identity provider has not confirmed your email address; confirm it there and sign in again.";

class ServerFaultResponse extends Error {
  constructor(readonly response: HttpResponseInit) {
    super("handler answered with a server fault");
  }
}

function errorResponse(err: unknown, meta: RequestMeta): HttpResponseInit {
  if (err instanceof ServerFaultResponse) return err.response;
  if (err instanceof ProblemError) return problemResponse(err.code, { ...err.options, requestId: meta.requestId });
  const fault = classifyDependencyError(err);
  if (fault?.kind === "unavailable") {
    // A busy or unreachable backing service is a moment to wait out, not a bug.
    meta.log.warn("dependency unavailable", { dependency: fault.dependency, err });
    return problemResponse("SERVICE_UNAVAILABLE", { requestId: meta.requestId, detail: fault.detail, headers: { "retry-after": "1" } });
  }
  if (fault?.kind === "caller") {
    // The request's own fault, caught by a constraint: answered as such, logged so a missing check is found.
    meta.log.warn("database refused the request's data", { err });
    return problemResponse(fault.code, { requestId: meta.requestId, detail: fault.detail });
  }
  meta.log.error("unhandled error", { err });
  return problemResponse("INTERNAL_ERROR", { requestId: meta.requestId });
}

function parsePart<S extends z.ZodType | undefined>(schema: S, value: unknown, source: "params" | "query" | "body"): unknown {
  if (!schema) return undefined;
  const unstorable = unstorableInput(value, source);
  if (unstorable.length > 0) throw new ProblemError("VALIDATION_FAILED", { detail: `The ${source} holds values that cannot be stored.`, errors: unstorable });
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ProblemError("VALIDATION_FAILED", { detail: `The ${source} is not valid.`, errors: fieldErrors(source, result.error) });
}

/** Repeated query keys become arrays; single ones stay strings. */
function queryObject(query: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key);
    out[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return out;
}

function toHttpResponse(result: RouteResult): HttpResponseInit {
  if ("raw" in result) return result.raw;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) if (value !== undefined) headers[name] = value;
  if (result.body === undefined || result.status === 204 || result.status === 304) {
    return { status: result.status, headers };
  }
  headers["content-type"] ??= "application/json; charset=utf-8";
  return { status: result.status, headers, body: JSON.stringify(result.body) };
}

function storable(response: HttpResponseInit): StoredResponse {
  return {
    status: response.status ?? 200,
    headers: { ...(response.headers as Record<string, string>) },
    body: typeof response.body === "string" ? response.body : null,
  };
}
