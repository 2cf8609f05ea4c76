import type { RunningApp } from "./app.js";

/** One HTTP function as the runtime registered it (`GET /admin/functions`, the host's metadata list). */
export interface RegisteredHttpFunction {
  name: string;
  /** The registered route template, without the route prefix: `v1/users/{userId}`. */
  route: string;
  methods: string[];
  /** The route prefix the host serves it under, e.g. `/api`. */
  prefix: string;
}

interface FunctionMetadata {
  name: string;
  invoke_url_template: string | null;
  config: { bindings: { type?: string; direction?: string; route?: string; methods?: string[] }[] };
}

/** Every HTTP-triggered function the runtime hosts, from its admin API. */
export async function registeredHttpFunctions(app: RunningApp): Promise<RegisteredHttpFunction[]> {
  const res = await fetch(`${app.baseUrl}/admin/functions`);
  if (res.status !== 200) {
    throw new Error(`GET /admin/functions answered ${res.status}: the local runtime must list its functions (@ringlet/local-runtime, src/admin-functions.ts); rebuild with npm run build`);
  }
  const list = (await res.json()) as FunctionMetadata[];
  const out: RegisteredHttpFunction[] = [];
  for (const fn of list) {
    const trigger = fn.config.bindings.find((b) => b.direction === "in" && String(b.type).toLowerCase() === "httptrigger");
    if (!trigger) continue;
    const route = trigger.route ?? fn.name;
    // invoke_url_template is lower-cased by the host, so only the prefix is taken from it.
    const pathname = fn.invoke_url_template ? new URL(fn.invoke_url_template.replace(/\{/g, "%7B").replace(/\}/g, "%7D")).pathname : `/api/${route}`;
    const decoded = decodeURIComponent(pathname);
    const prefix = decoded.toLowerCase().endsWith(`/${route.toLowerCase()}`) ? decoded.slice(0, decoded.length - route.length - 1) : "/api";
    // A trigger without methods accepts every method (host default).
    out.push({ name: fn.name, route, methods: (trigger.methods ?? ["GET", "POST", "PUT", "PATCH", "DELETE"]).map((m) => m.toUpperCase()), prefix });
  }
  return out;
}

export type AccessDescription =
  | { kind: "public" | "authenticated" | "admin" | "finance" | "instructorAnywhere" }
  | { kind: "courseStaff"; roles: string[]; course: string }
  | { kind: "courseMember"; course: string }
  | { kind: "courseStaffOfAny"; roles: string[]; courses: string }
  | { kind: "owner"; owner: string }
  | { kind: "anyOf"; policies: AccessDescription[] };

export interface DeclaredRoute {
  name: string;
  method: string;
  path: string;
  access: AccessDescription;
  idempotent: boolean;
  hidden: boolean;
}

export async function declaredRoutes(app: RunningApp, adminToken: string): Promise<DeclaredRoute[]> {
  const res = await fetch(`${app.baseUrl}/api/v1/ops/routes`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (res.status !== 200) throw new Error(`GET /api/v1/ops/routes answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { items: DeclaredRoute[] }).items;
}

export interface Persona {
  name: string;
  token?: string;
  userId?: string;
  isAdmin: boolean;
  /** Holds the `finance` role (the bursar). */
  isFinance?: boolean;
  /** Course id → the persona's staff role there. */
  courseRoles: Record<string, string>;
  /** Courses the persona is actively enrolled in as a learner. */
  enrolledIn?: string[];
}

export interface MatrixContext {
  /** Path parameter values by name. */
  params: Record<string, string>;
  /** The course that resources located by a lookup (not a param) belong to. */
  courseId: string;
  /** The user that resources located by a lookup (not a param) belong to. */
  ownerId: string;
}

export type Expected = "allowed" | 401 | 403;

/** Whether any anonymous caller can pass: mirrors the route helper's 401-first rule. */
export function requiresCaller(policy: AccessDescription): boolean {
  if (policy.kind === "public") return false;
  if (policy.kind === "anyOf") return policy.policies.every(requiresCaller);
  return true;
}

function locate(locator: string, fallback: string, ctx: MatrixContext): string {
  if (!locator.startsWith("param:")) return fallback;
  const name = locator.slice("param:".length);
  const value = ctx.params[name];
  if (value === undefined) throw new Error(`the policy locates by param ${name}, which has no fixture: add it to the matrix fixtures`);
  return value;
}

function allows(policy: AccessDescription, who: Persona, ctx: MatrixContext): boolean {
  switch (policy.kind) {
    case "public":
      return true;
    case "authenticated":
      return Boolean(who.userId);
    case "admin":
      return who.isAdmin;
    case "finance":
      return who.isAdmin || who.isFinance === true;
    case "courseStaff": {
      if (!who.userId) return false;
      if (who.isAdmin) return true;
      const role = who.courseRoles[locate(policy.course, ctx.courseId, ctx)];
      return role !== undefined && policy.roles.includes(role);
    }
    case "instructorAnywhere":
      return who.isAdmin || Object.values(who.courseRoles).includes("instructor");
    case "courseStaffOfAny": {
      // Courses found by a lookup are THE course (the fixtures are hers).
      if (!who.userId) return false;
      const role = who.courseRoles[ctx.courseId];
      return who.isAdmin || (role !== undefined && policy.roles.includes(role));
    }
    case "courseMember": {
      if (!who.userId) return false;
      if (who.isAdmin) return true;
      const course = locate(policy.course, ctx.courseId, ctx);
      return who.courseRoles[course] !== undefined || (who.enrolledIn ?? []).includes(course);
    }
    case "owner":
      if (!who.userId) return false;
      return who.isAdmin || locate(policy.owner, ctx.ownerId, ctx) === who.userId;
    case "anyOf":
      return policy.policies.some((p) => allows(p, who, ctx));
    default:
      throw new Error(`unknown access policy ${JSON.stringify(policy)}: teach tests/support/matrix.ts what it means`);
  }
}

/** What a persona should get from a route with this policy. */
export function expectedFor(policy: AccessDescription, who: Persona, ctx: MatrixContext): Expected {
  if (!who.userId && requiresCaller(policy)) return 401;
  return allows(policy, who, ctx) ? "allowed" : 403;
}

export function describePolicy(policy: AccessDescription): string {
  switch (policy.kind) {
    case "courseStaff":
      return `courseStaff(${policy.roles.join("|")}@${policy.course})`;
    case "courseMember":
      return `courseMember(${policy.course})`;
    case "owner":
      return `owner(${policy.owner})`;
    case "anyOf":
      return `anyOf(${policy.policies.map(describePolicy).join(", ")})`;
    default:
      return policy.kind;
  }
}

/** Fills `{name}`, `{name:constraint}`, `{name?}` and `{*name}` from the fixtures; unknown names throw. */
export function fillRoute(route: string, values: Record<string, string>, catchAll: string): { path: string; missing: string[] } {
  const missing: string[] = [];
  const path = route.replace(/\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]*)?(\??)\}/g, (_m, star: string, name: string) => {
    if (star) return catchAll;
    const value = values[name];
    if (value === undefined) {
      missing.push(name);
      return `{${name}}`;
    }
    return encodeURIComponent(value);
  });
  return { path, missing };
}

/** A fixed-width table of rows (the first row is the header). */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd()).join("\n");
}
