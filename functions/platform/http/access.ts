import type { Executor } from "../../../domain/db/client.js";
import type { CourseRole } from "../../../domain/db/schema/index.js";
import { courseExists, courseRoleOf, isActiveLearner, isInstructorAnywhere, isStaffOfAny } from "../../../domain/identity/caller.js";

/** Finds a value from the route's parsed params: directly (`param`) or by a lookup (`resolve`). */
export type Locator =
  | { param: string }
  | { describe: string; resolve(params: Record<string, unknown>, db: Executor): Promise<string | null> };

/** Finds a list of courses by a lookup; null when the resource is not there. */
export interface CoursesLocator {
  describe: string;
  resolve(params: Record<string, unknown>, db: Executor): Promise<string[] | null>;
}

/**
 * Who may call a route. Every route declares one; the route helper enforces it, and no handler reads
 * tokens itself. Admins pass every policy but `public`'s absence of a caller.
 */
export type AccessPolicy =
  | { kind: "public" }
  | { kind: "authenticated" }
  | { kind: "admin" }
  /** The bursar (the `finance` role) and admins: fees, invoices, payments, refunds, the ledger. */
  | { kind: "finance" }
  /** Staff of the course the route is about, in one of `roles`. */
  | { kind: "courseStaff"; roles: readonly CourseRole[]; course: Locator }
  /** Instructors of any course, holders of the `course-creator` role, and admins: who may create courses. */
  | { kind: "instructorAnywhere" }
  /** Anyone taking part in the course: its staff and its actively enrolled learners. */
  | { kind: "courseMember"; course: Locator }
  /** Staff in one of `roles` of any of several courses (e.g. the courses a shared question bank is shared with). */
  | { kind: "courseStaffOfAny"; roles: readonly CourseRole[]; courses: CoursesLocator }
  /** The user who owns the resource (for `/users/{userId}/...`, that user). */
  | { kind: "owner"; owner: Locator }
  | { kind: "anyOf"; policies: readonly AccessPolicy[] };

/**
 * The policies no anonymous caller passes, as a type: a route declaring one gets a handler context whose caller
 * is not null. `requiresCaller` says the same at run time, and is what the route helper enforces.
 */
export type CallerPolicy = Exclude<AccessPolicy, { kind: "public" } | { kind: "anyOf" }> | { kind: "anyOf"; policies: readonly CallerPolicy[] };

export const publicAccess: AccessPolicy = { kind: "public" };
export const authenticated: CallerPolicy = { kind: "authenticated" };
export const adminOnly: CallerPolicy = { kind: "admin" };
export const financeStaff: CallerPolicy = { kind: "finance" };
export const courseStaff = (roles: readonly CourseRole[], course: Locator = { param: "courseId" }): CallerPolicy => ({ kind: "courseStaff", roles, course });
export const instructorAnywhere: CallerPolicy = { kind: "instructorAnywhere" };
export const courseStaffOfAny = (roles: readonly CourseRole[], courses: CoursesLocator): CallerPolicy => ({ kind: "courseStaffOfAny", roles, courses });
export const courseMember = (course: Locator = { param: "courseId" }): CallerPolicy => ({ kind: "courseMember", course });
export const owner = (locator: Locator = { param: "userId" }): CallerPolicy => ({ kind: "owner", owner: locator });
export function anyOf(...policies: CallerPolicy[]): CallerPolicy;
export function anyOf(...policies: AccessPolicy[]): AccessPolicy;
export function anyOf(...policies: AccessPolicy[]): AccessPolicy {
  return { kind: "anyOf", policies };
}

/** The caller as the route sees it. */
export interface Principal {
  userId: string | null;
  isAdmin: boolean;
  /** Holds the `finance` role (the bursar). */
  isFinance?: boolean;
  /** The session (refresh-token family) of a local access token. */
  sessionId: string | null;
  /** AUTH_TWO_FACTOR_REQUIRED applies to the caller and the session was not signed in with a second factor. */
  twoFactorPending?: boolean;
  /** An external identity whose address is not confirmed, under AUTH_UNVERIFIED_ACCESS=none. */
  emailUnverified?: boolean;
}

/**
 * The routes a caller who still owes a second factor may use: to see themselves, enroll, and sign in or out.
 * Every other route that needs a caller answers them 403 `TWO_FACTOR_REQUIRED`.
 */
export function twoFactorExempt(route: { method: string; path: string }): boolean {
  const { method, path } = route;
  return (method === "GET" && path === "/v1/me") || path === "/v1/me/two-factor" || path.startsWith("/v1/me/two-factor/") || path.startsWith("/v1/auth/");
}

export const anonymous: Principal = { userId: null, isAdmin: false, sessionId: null };

/** True when no anonymous caller can pass: the helper answers 401 before looking at anything else. */
export function requiresCaller(policy: AccessPolicy): boolean {
  if (policy.kind === "public") return false;
  if (policy.kind === "anyOf") return policy.policies.every(requiresCaller);
  return true;
}

export type AccessDecision = "allow" | "deny" | "not-found";

async function locate(locator: Locator, params: Record<string, unknown>, db: Executor): Promise<string | null> {
  if ("param" in locator) {
    const value = params[locator.param];
    return typeof value === "string" ? value : null;
  }
  return locator.resolve(params, db);
}

/**
 * Admins pass course policies, but a course id taken straight from the path has not been looked up: a course
 * that does not exist is not found for them (a lookup locator found it already), never a later foreign-key fault.
 */
async function adminDecision(locator: Locator, courseId: string, db: Executor): Promise<AccessDecision> {
  return "param" in locator && !(await courseExists(db, courseId)) ? "not-found" : "allow";
}

/**
 * Decides a policy for a caller and the route's parsed params. A resource that cannot be located is not found.
 * `roleIn` answers the caller's role in a course; the route helper passes the request's memoised one, so the
 * handler reuses the read.
 */
export async function decide(
  policy: AccessPolicy,
  caller: Principal,
  params: Record<string, unknown>,
  db: Executor,
  roleIn = (courseId: string): Promise<CourseRole | null> => (caller.userId ? courseRoleOf(db, caller.userId, courseId) : Promise.resolve(null)),
): Promise<AccessDecision> {
  switch (policy.kind) {
    case "public":
      return "allow";
    case "authenticated":
      return caller.userId ? "allow" : "deny";
    case "admin":
      return caller.isAdmin ? "allow" : "deny";
    case "finance":
      return caller.isAdmin || caller.isFinance === true ? "allow" : "deny";
    case "courseStaff": {
      if (!caller.userId) return "deny";
      const courseId = await locate(policy.course, params, db);
      if (!courseId) return "not-found";
      if (caller.isAdmin) return adminDecision(policy.course, courseId, db);
      const role = await roleIn(courseId);
      return role && policy.roles.includes(role) ? "allow" : "deny";
    }
    case "courseStaffOfAny": {
      if (!caller.userId) return "deny";
      const courseIds = await policy.courses.resolve(params, db);
      if (!courseIds) return "not-found";
      if (caller.isAdmin) return "allow";
      // One course: the request's memoised role read; several (a shared bank's, up to 500): one `= any(...)` read.
      if (courseIds.length === 1) {
        const role = await roleIn(courseIds[0] as string);
        return role && policy.roles.includes(role) ? "allow" : "deny";
      }
      return (await isStaffOfAny(db, caller.userId, courseIds, policy.roles)) ? "allow" : "deny";
    }
    case "instructorAnywhere":
      if (!caller.userId) return "deny";
      return caller.isAdmin || (await isInstructorAnywhere(db, caller.userId)) ? "allow" : "deny";
    case "courseMember": {
      if (!caller.userId) return "deny";
      const courseId = await locate(policy.course, params, db);
      if (!courseId) return "not-found";
      if (caller.isAdmin) return adminDecision(policy.course, courseId, db);
      return (await roleIn(courseId)) || (await isActiveLearner(db, caller.userId, courseId)) ? "allow" : "deny";
    }
    case "owner": {
      if (!caller.userId) return "deny";
      const ownerId = await locate(policy.owner, params, db);
      if (!ownerId) return "not-found";
      return caller.isAdmin || ownerId === caller.userId ? "allow" : "deny";
    }
    case "anyOf": {
      let sawNotFound = false;
      for (const p of policy.policies) {
        const d = await decide(p, caller, params, db, roleIn);
        if (d === "allow") return "allow";
        sawNotFound ||= d === "not-found";
      }
      return sawNotFound ? "not-found" : "deny";
    }
  }
}

export type AccessDescription =
  | { kind: "public" | "authenticated" | "admin" | "finance" | "instructorAnywhere" }
  | { kind: "courseStaff"; roles: readonly CourseRole[]; course: string }
  | { kind: "courseMember"; course: string }
  | { kind: "courseStaffOfAny"; roles: readonly CourseRole[]; courses: string }
  | { kind: "owner"; owner: string }
  | { kind: "anyOf"; policies: AccessDescription[] };

/** A serialisable description for the OpenAPI document (`x-access`) and the route listing. */
export function describeAccess(policy: AccessPolicy): AccessDescription {
  const where = (l: Locator) => ("param" in l ? `param:${l.param}` : l.describe);
  switch (policy.kind) {
    case "courseStaff":
      return { kind: "courseStaff", roles: policy.roles, course: where(policy.course) };
    case "courseMember":
      return { kind: "courseMember", course: where(policy.course) };
    case "courseStaffOfAny":
      return { kind: "courseStaffOfAny", roles: policy.roles, courses: policy.courses.describe };
    case "owner":
      return { kind: "owner", owner: where(policy.owner) };
    case "anyOf":
      return { kind: "anyOf", policies: policy.policies.map(describeAccess) };
    default:
      return { kind: policy.kind };
  }
}

/** What `decide` can answer for a policy besides "allow", once the caller is signed in where the policy needs one. */
export interface PolicyOutcomes {
  deny: boolean;
  notFound: boolean;
}

/**
 * Read from `decide` above, so the OpenAPI document declares the 403 and 404 a route's access check can answer:
 * `authenticated` never denies a caller that got past the 401; a course locator misses for a lookup that finds
 * nothing, and for admins on a course id that does not exist; an owner taken straight from the path is always found.
 */
export function policyOutcomes(policy: AccessPolicy): PolicyOutcomes {
  switch (policy.kind) {
    case "public":
    case "authenticated":
      return { deny: false, notFound: false };
    case "admin":
    case "finance":
    case "instructorAnywhere":
      return { deny: true, notFound: false };
    case "courseStaff":
    case "courseMember":
    case "courseStaffOfAny":
      return { deny: true, notFound: true };
    case "owner":
      return { deny: true, notFound: !("param" in policy.owner) };
    case "anyOf": {
      const each = policy.policies.map(policyOutcomes);
      // A member that never refuses lets every caller through.
      if (each.some((o) => !o.deny && !o.notFound)) return { deny: false, notFound: false };
      return { deny: each.some((o) => o.deny), notFound: each.some((o) => o.notFound) };
    }
  }
}
