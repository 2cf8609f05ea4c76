import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { createCourse, signUp, type TestUser } from "../../support/identity.js";
import {
  type DeclaredRoute,
  declaredRoutes,
  describePolicy,
  type Expected,
  expectedFor,
  fillRoute,
  type MatrixContext,
  type Persona,
  type RegisteredHttpFunction,
  registeredHttpFunctions,
  table,
} from "../../support/matrix.js";

/**
 * Every registered HTTP route × every kind of caller, checked against the access policy the route
 * declares (the design: "Every route states which roles may call it; tests cover every route × role").
 * The routes come from the runtime's own registrations, so a new route is covered (or fails) by itself.
 */

/** Functions the runtime itself registers, not the app; none today. */
const RUNTIME_INTERNAL = new Set<string>();
/**
 * App functions that are not routes, with why: they read nothing, change nothing and answer the same to everyone,
 * so there is no access to declare (security-headers.test.ts covers them).
 */
const NOT_ROUTES = new Map([
  ["system-cors-preflight", "CORS preflight: OPTIONS on every path, answered with CORS headers only"],
  ["web-app", "the built web app's public files outside /api (web-app.test.ts covers it)"],
]);

/** A path below the route prefix that no declared route matches: what the catch-all routes see. */
const UNMATCHED = "v1/__authorization-matrix__/no-such-route";

/** GET calls in flight at once per persona (the runtime serves them in parallel; more gains nothing on two cores). */
const READ_CONCURRENCY = 6;

let db: TestDatabase;
let app: RunningApp;
let registered: RegisteredHttpFunction[];
let declared: DeclaredRoute[];
let users: Record<"learner" | "otherLearner" | "grader" | "instructor" | "otherInstructor" | "bursar" | "admin", TestUser>;
let courseId: string;
let otherCourseId: string;
let personas: Persona[];
let fixtures: Record<string, string>;
let moduleId: string;
let lessonId: string;
let webhookId: string;
let deliveryId: string;
let assessmentId: string;
let attemptId: string;
let gradeId: string;
let importId: string;
let classSessionId: string;
let applicationId: string;
let topicId: string;
let postId: string;
let evaluationTemplateId: string;
let evaluationId: string;
let announcementId: string;
let rubricId: string;
let bankId: string;
let bankItemId: string;
let generationJobId: string;

/**
 * Puts back what a caller's allowed call may have ended (the learner's enrollment, the fixture lesson),
 * so every persona meets the same fixtures whatever ran before it.
 */
async function restoreFixtures(): Promise<void> {
  // The admin's deactivate call switches the learner off; the next call meets them active again.
  await db.sql`update users set disabled_at = null where id = ${users.learner.id} and disabled_at is not null`;
  await db.sql`insert into modules (id, course_id, title, position) values (${moduleId}, ${courseId}, 'Matrix module', 1) on conflict do nothing`;
  await db.sql`insert into lessons (id, module_id, course_id, title, kind, position, body) values (${lessonId}, ${moduleId}, ${courseId}, 'Matrix lesson', 'text', 1, 'Hello') on conflict do nothing`;
  await db.sql`insert into enrollments (id, course_id, user_id, status, source, enrolled_at)
    select gen_random_uuid(), ${courseId}, ${users.learner.id}, 'active', 'staff', now()
    where not exists (select 1 from enrollments where course_id = ${courseId} and user_id = ${users.learner.id} and status in ('active', 'waitlisted', 'offered'))`;
  // A whole-course class session of THE course, a week ahead (an instructor's delete or cancel is undone here).
  await db.sql`insert into class_sessions (id, course_id, title, starts_at, ends_at, time_zone) values (${classSessionId}, ${courseId}, 'Matrix class',
    now() + interval '7 days', now() + interval '7 days 1 hour', 'Europe/Madrid')
    on conflict (id) do update set status = 'scheduled', cancelled_at = null where class_sessions.status = 'cancelled'`;
  // A published whole-course announcement of THE course (an instructor's delete is undone here).
  if (announcementId) {
    await db.sql`insert into announcements (id, course_id, title, body_markdown, body_html, publish_at, published_at)
      values (${announcementId}, ${courseId}, 'Matrix news', 'Hello', '<p>Hello</p>', now(), now()) on conflict do nothing`;
  }
  // A question bank of THE course with one approved item (an instructor's delete or retire is undone here).
  if (bankId) {
    await db.sql`insert into question_banks (id, course_id, title) values (${bankId}, ${courseId}, 'Matrix bank') on conflict do nothing`;
    await db.sql`insert into bank_items (id, bank_id, type, current_version, status) values (${bankItemId}, ${bankId}, 'true-false', 1, 'approved')
      on conflict (id) do update set status = 'approved'`;
    await db.sql`insert into bank_item_versions (item_id, version, item, key) values (${bankItemId}, 1,
      ${JSON.stringify({ id: bankItemId, type: "true-false", points: 1, prompt: "Matrix?" })}::jsonb, ${JSON.stringify({ type: "true-false", correct: true })}::jsonb) on conflict do nothing`;
    // A finished generation job of the bank (its progress and result are read, nothing more).
    await db.sql`insert into generation_jobs (id, bank_id, course_id, source, item_types, count, status, progress) values (${generationJobId}, ${bankId}, ${courseId},
      ${JSON.stringify({ kind: "lesson", lessonId })}::jsonb, '{essay}', 1, 'succeeded', ${JSON.stringify({ requested: 1, generated: 1, stored: 0, discarded: 1 })}::jsonb) on conflict do nothing`;
  }
  // A rubric of THE course, attached to nothing (an instructor's delete is undone here).
  if (rubricId) {
    await db.sql`insert into rubrics (id, course_id, title, criteria) values (${rubricId}, ${courseId}, 'Matrix rubric',
      ${JSON.stringify([{ kind: "free-points", id: "overall", title: "Overall", description: "", maxPoints: 4 }])}::jsonb) on conflict do nothing`;
  }
  // The leave application is pending again for the next caller (the instructor decides it, the learner withdraws it).
  if (applicationId) {
    await db.sql`update leave_applications set status = 'pending', decided_at = null, decided_by_user_id = null, decision_comment = null
      where id = ${applicationId} and status <> 'pending'`;
  }
}

// Valid bodies for routes whose rules only show past validation (the rest get `{}` and may answer 400).
const sampleBodies: Record<string, unknown> = {
  // Approvers decide (200); the applicant and an admin before escalation get 409; anyone else 404, never 403.
  "leave-applications-decide": { decision: "reject", comment: "Matrix" },
};

beforeAll(async () => {
  db = await createTestDatabase();
  // /api/ready probes every dependency within READY_CHECK_TIMEOUT_MS (2 s): on a loaded CI machine a probe can take
  // longer, and a 503 from readiness says nothing about who may call what.
  app = await startApp({ env: { DATABASE_URL: db.url, READY_CHECK_TIMEOUT_MS: "15000" } });
  const [learner, otherLearner, grader, instructor, otherInstructor, bursar, admin] = await Promise.all([
    signUp(app, db, { label: "learner" }),
    signUp(app, db, { label: "other-learner" }),
    signUp(app, db, { label: "grader" }),
    signUp(app, db, { label: "instructor" }),
    signUp(app, db, { label: "other-instructor" }),
    signUp(app, db, { label: "bursar", finance: true }),
    signUp(app, db, { label: "admin", admin: true }),
  ]);
  users = { learner, otherLearner, grader, instructor, otherInstructor, bursar, admin };
  courseId = await createCourse(db, [
    { userId: instructor.id, role: "instructor" },
    { userId: grader.id, role: "grader" },
  ]);
  otherCourseId = await createCourse(db, [{ userId: otherInstructor.id, role: "instructor" }]);
  moduleId = crypto.randomUUID();
  lessonId = crypto.randomUUID();
  webhookId = crypto.randomUUID();
  deliveryId = crypto.randomUUID();
  assessmentId = crypto.randomUUID();
  attemptId = crypto.randomUUID();
  // An assessment of THE course, and a submitted attempt of the learner persona.
  await db.sql`insert into assessments (id, course_id, title, kind, items) values (${assessmentId}, ${courseId}, 'Matrix quiz', 'quiz',
    ${JSON.stringify([{ id: "q1", type: "true-false", points: 1, prompt: "" }])}::jsonb)`;
  await db.sql`insert into assessment_keys (assessment_id, version, keys) values (${assessmentId}, 1, ${JSON.stringify({ q1: { type: "true-false", correct: true } })}::jsonb)`;
  await db.sql`insert into attempts (id, assessment_id, course_id, user_id, number, status, started_at, submitted_at, submitted_by)
    values (${attemptId}, ${assessmentId}, ${courseId}, ${learner.id}, 1, 'submitted', now(), now(), 'learner')`;
  gradeId = crypto.randomUUID();
  await db.sql`insert into grades (id, submission_id, assessment_id, course_id, user_id, version, key_version, percent, item_scores, explanation)
    values (${gradeId}, ${attemptId}, ${assessmentId}, ${courseId}, ${learner.id}, 1, 1, 100, '[]'::jsonb, '[]'::jsonb)`;
  classSessionId = crypto.randomUUID();
  importId = crypto.randomUUID();
  await db.sql`insert into imports (id, created_by_user_id, blob_name, file_name, content_type, declared_size)
    values (${importId}, ${learner.id}, ${`imports/${importId}/upload.csv`}, 'matrix.csv', 'text/csv', 10)`;
  // A pending leave application of the learner persona (no orchestration runs for it: its events go nowhere).
  applicationId = crypto.randomUUID();
  await db.sql`insert into leave_applications (id, applicant_user_id, applicant_kind, starts_at, ends_at, reason, instance_id)
    values (${applicationId}, ${learner.id}, 'learner', now() + interval '10 days', now() + interval '11 days', 'Matrix leave', ${`leave-${applicationId}`})`;
  await db.sql`insert into leave_approvers (application_id, user_id, course_id) values (${applicationId}, ${instructor.id}, ${courseId})`;
  // An evaluation template and an open evaluation of THE course made from it.
  evaluationTemplateId = crypto.randomUUID();
  evaluationId = crypto.randomUUID();
  const evaluationQuestions = JSON.stringify([{ id: "overall", kind: "likert", prompt: "Overall", required: true }]);
  await db.sql`insert into evaluation_templates (id, title, questions) values (${evaluationTemplateId}, 'Matrix evaluation', ${evaluationQuestions}::jsonb)`;
  await db.sql`insert into course_evaluations (id, course_id, template_id, term, questions, opens_at, closes_at, status, opened_at)
    values (${evaluationId}, ${courseId}, ${evaluationTemplateId}, 'Matrix term', ${evaluationQuestions}::jsonb, now() - interval '1 day', now() + interval '10 days', 'open', now())`;
  announcementId = crypto.randomUUID();
  rubricId = crypto.randomUUID();
  bankId = crypto.randomUUID();
  bankItemId = crypto.randomUUID();
  generationJobId = crypto.randomUUID();
  // A discussion topic of THE course opened by the instructor: nobody else's to edit or remove (404), and the
  // moderation and post bodies the matrix sends ({}) are refused (400), so nothing changes it.
  topicId = crypto.randomUUID();
  postId = crypto.randomUUID();
  await db.sql`insert into discussion_topics (id, course_id, author_user_id, title) values (${topicId}, ${courseId}, ${instructor.id}, 'Matrix topic')`;
  await db.sql`insert into discussion_posts (id, topic_id, course_id, author_user_id, body_markdown, body_html, search)
    values (${postId}, ${topicId}, ${courseId}, ${instructor.id}, 'Hello', '<p>Hello</p>', to_tsvector('english', 'Hello'))`;
  await restoreFixtures();
  // An inactive endpoint nobody listens on: replaying its delivery fails fast and harms nothing.
  await db.sql`insert into webhooks (id, url, secret, active) values (${webhookId}, 'http://127.0.0.1:1/hook', 'whsec_matrix', false)`;
  await db.sql`insert into webhook_deliveries (id, webhook_id, event_id, event_type, payload) values (${deliveryId}, ${webhookId}, ${crypto.randomUUID()}, 'user.registered', '{}')`;

  // The admin goes last: its calls may change state (revoke sessions, set roles) that others rely on.
  personas = [
    { name: "anonymous", isAdmin: false, courseRoles: {} },
    { name: "learner", token: learner.accessToken, userId: learner.id, isAdmin: false, courseRoles: {}, enrolledIn: [courseId] },
    { name: "other-learner", token: otherLearner.accessToken, userId: otherLearner.id, isAdmin: false, courseRoles: {} },
    { name: "grader", token: grader.accessToken, userId: grader.id, isAdmin: false, courseRoles: { [courseId]: "grader" } },
    { name: "instructor", token: instructor.accessToken, userId: instructor.id, isAdmin: false, courseRoles: { [courseId]: "instructor" } },
    { name: "other-instructor", token: otherInstructor.accessToken, userId: otherInstructor.id, isAdmin: false, courseRoles: { [otherCourseId]: "instructor" } },
    { name: "bursar", token: bursar.accessToken, userId: bursar.id, isAdmin: false, isFinance: true, courseRoles: {} },
    { name: "admin", token: admin.accessToken, userId: admin.id, isAdmin: true, courseRoles: {} },
  ];

  // Path parameter values by name. Resources belong to THE course and to the learner persona.
  // A route with a parameter not listed here fails the matrix: add a fixture (create the row above).
  fixtures = {
    courseId,
    userId: learner.id,
    moduleId,
    lessonId,
    webhookId,
    deliveryId,
    assessmentId,
    attemptId,
    submissionId: attemptId,
    gradeId,
    // Nobody's session: every caller who passes the policy gets 404.
    sessionId: crypto.randomUUID(),
    // Nobody's account invitation: admins get 404 (ACCOUNT_INVITATION_NOT_FOUND), everyone else 403.
    invitationId: crypto.randomUUID(),
    // Nobody's data export: the owner check answers 404 to everyone who passes the policy.
    exportId: crypto.randomUUID(),
    // Nobody's section, group or enrollment: callers who pass the course policy get 404.
    sectionId: crypto.randomUUID(),
    groupId: crypto.randomUUID(),
    enrollmentId: crypto.randomUUID(),
    // Nobody's invoice or credit note: callers who pass the policy get 404 (INVOICE_NOT_FOUND, CREDIT_NOTE_NOT_FOUND).
    invoiceId: crypto.randomUUID(),
    creditNoteId: crypto.randomUUID(),
    // Nobody's payment: the bursar and admins get 404 (PAYMENT_NOT_FOUND), everyone else 403.
    paymentId: crypto.randomUUID(),
    // Nobody's fee or discount: callers who pass the policy get 404 (FEE_NOT_FOUND).
    feeId: crypto.randomUUID(),
    discountId: crypto.randomUUID(),
    // The learner persona's import, awaiting its upload (nothing to start, nothing to cancel).
    importId,
    // The learner persona's leave application, with the instructor persona its approver.
    applicationId,
    // An evaluation template, and an open evaluation of THE course.
    templateId: evaluationTemplateId,
    evaluationId,
    // A whole-course class session of THE course (`sessionId` above names sign-in sessions).
    classSessionId,
    topicId,
    postId,
    // A published whole-course announcement of THE course.
    announcementId,
    // A rubric of THE course.
    rubricId,
    // A question bank of THE course and its item (version 1).
    bankId,
    itemId: bankItemId,
    // A generation job of that bank.
    jobId: generationJobId,
    version: "1",
    // Nobody's inbox entry: every signed-in caller gets 404 (NOTIFICATION_NOT_FOUND).
    notificationId: crypto.randomUUID(),
    // Nobody's push subscription: deleting it answers 404 (PUSH_SUBSCRIPTION_NOT_FOUND) to every signed-in caller.
    subscriptionId: crypto.randomUUID(),
    // Nobody's calendar feed token: the public feed answers 404 to everyone.
    token: "matrix-no-such-calendar-feed-token-0000000",
    subscription: "webhooks",
    code: "AAAA-BBBB-CCCC",
    chart: "drop-off",
    file: "init.js",
  };

  registered = await registeredHttpFunctions(app);
  declared = await declaredRoutes(app, admin.accessToken);
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

describe("route registrations and declared policies", () => {
  it("lists the HTTP functions the runtime registered", () => {
    expect(registered.length).toBeGreaterThan(0);
    expect(registered.map((r) => r.name)).toContain("ops-routes-list");
  });

  it("declares a route and an access policy for every registered HTTP function", () => {
    const byName = new Map(declared.map((d) => [d.name, d]));
    const undeclared = registered.filter((r) => !RUNTIME_INTERNAL.has(r.name) && !NOT_ROUTES.has(r.name) && !byName.has(r.name)).map((r) => `${r.name} (${r.methods.join(",")} ${r.route})`);
    expect(undeclared, "HTTP functions registered without route(): they have no declared access policy").toEqual([]);
    const noPolicy = declared.filter((d) => !d.access || typeof d.access.kind !== "string").map((d) => d.name);
    expect(noPolicy, "declared routes without an access policy").toEqual([]);
  });

  it("registers every declared route, under the declared method and path", () => {
    const byName = new Map(registered.map((r) => [r.name, r]));
    const problems: string[] = [];
    for (const d of declared) {
      const r = byName.get(d.name);
      if (!r) {
        problems.push(`${d.name}: declared but not registered`);
        continue;
      }
      if (!r.methods.includes(d.method)) problems.push(`${d.name}: declared ${d.method}, registered ${r.methods.join(",")}`);
      if (`${r.prefix}/${r.route}` !== d.path) problems.push(`${d.name}: declared ${d.path}, registered ${r.prefix}/${r.route}`);
    }
    expect(problems).toEqual([]);
  });
});

interface Cell {
  route: DeclaredRoute;
  persona: Persona;
  expected: Expected;
  status: number;
  code: string | undefined;
  ok: boolean;
  note?: string;
}

function judge(expected: Expected, res: Response, code: string | undefined): { ok: boolean; note?: string } {
  const status = res.status;
  const challenge = res.headers.get("www-authenticate");
  if (status >= 500) return { ok: false, note: "server error" };
  // The route helper stamps every answer; without it the host answered and the function never ran.
  if (!res.headers.get("x-request-id")) return { ok: false, note: "not answered by the function" };
  if (expected === "allowed") return { ok: status !== 401 && status !== 403 };
  if (status !== expected) return { ok: false };
  if (expected === 401 && code !== "UNAUTHENTICATED") return { ok: false, note: `code ${code}` };
  if (expected === 401 && !/^Bearer\b/.test(challenge ?? "")) return { ok: false, note: "no WWW-Authenticate" };
  if (expected === 403 && code !== "FORBIDDEN") return { ok: false, note: `code ${code}` };
  return { ok: true };
}

describe("authorization matrix", () => {
  it("answers every route as its policy says, for every kind of caller", async () => {
    const byName = new Map(registered.map((r) => [r.name, r]));
    const routes = declared.filter((d) => byName.has(d.name));
    const missing = new Map<string, string[]>();
    const cells: Cell[] = [];

    const callCell = async (persona: Persona, route: DeclaredRoute): Promise<void> => {
      const fn = byName.get(route.name) as RegisteredHttpFunction;
      const filled = fillRoute(fn.route, fixtures, UNMATCHED);
      if (filled.missing.length > 0) {
        missing.set(route.name, filled.missing);
        return;
      }
      const ctx: MatrixContext = { params: fixtures, courseId, ownerId: users.learner.id };
      const expected = expectedFor(route.access, persona, ctx);
      const headers: Record<string, string> = {};
      if (persona.token) headers.authorization = `Bearer ${persona.token}`;
      const withBody = ["POST", "PUT", "PATCH"].includes(route.method);
      if (withBody) headers["content-type"] = "application/json";
      const res = await fetch(`${app.baseUrl}${fn.prefix}/${filled.path}`, { method: route.method, headers, ...(withBody ? { body: JSON.stringify(sampleBodies[route.name] ?? {}) } : {}) });
      const text = await res.text();
      let code: string | undefined;
      try {
        code = (JSON.parse(text) as { code?: string }).code;
      } catch {
        code = undefined;
      }
      cells.push({ route, persona, expected, status: res.status, code, ...judge(expected, res, code) });
    };

    // GETs change nothing: each persona's (two in five routes) run after one restore, several at a time. Every other
    // call gets the fixtures restored before it and runs alone, as a caller's change may end one.
    const reads = routes.filter((r) => r.method === "GET");
    const writes = routes.filter((r) => r.method !== "GET");
    for (const persona of personas) {
      await restoreFixtures();
      const queue = [...reads];
      await Promise.all(
        Array.from({ length: READ_CONCURRENCY }, async () => {
          for (let route = queue.shift(); route; route = queue.shift()) await callCell(persona, route);
        }),
      );
      for (const route of writes) {
        await restoreFixtures();
        await callCell(persona, route);
      }
    }

    expect(
      [...missing].map(([name, params]) => `${name}: no fixture for ${params.map((p) => `{${p}}`).join(", ")}; add it to the fixtures in authorization-matrix.test.ts`),
      "route parameters without a fixture",
    ).toEqual([]);

    const failures = cells.filter((c) => !c.ok);
    const header = ["route", "policy", ...personas.map((p) => p.name)];
    const rows = routes.map((route) => [
      `${route.method} ${route.path}`,
      describePolicy(route.access),
      ...personas.map((p) => {
        const c = cells.find((x) => x.route === route && x.persona === p);
        if (!c) return "-";
        const want = c.expected === "allowed" ? "ok" : String(c.expected);
        return c.ok ? `${c.status}` : `${c.status}!=${want}${c.note ? `(${c.note})` : ""}`;
      }),
    ]);
    // MATRIX_TABLE=1 prints the table on success too.
    if (process.env.MATRIX_TABLE) console.log(table([header, ...rows]));
    if (failures.length > 0) {
      expect.fail(`${failures.length} of ${cells.length} calls answered against the declared policy (status!=expected; ok = not 401/403 and < 500):\n${table([header, ...rows])}`);
    }
    expect(cells.length).toBe(routes.length * personas.length);
    // Every route times every persona, over HTTP: about 15 s alone, and it grows with the API.
  }, 120_000);

  it("derives the expected answers from course-staff, owner and anyOf policies as the design states them", () => {
    const ctx: MatrixContext = { params: fixtures, courseId, ownerId: users.learner.id };
    const expectations = (policy: Parameters<typeof expectedFor>[0]) => Object.fromEntries(personas.map((p) => [p.name, expectedFor(policy, p, ctx)]));
    expect(expectations({ kind: "courseStaff", roles: ["instructor"], course: "param:courseId" })).toEqual({
      anonymous: 401, learner: 403, "other-learner": 403, grader: 403, instructor: "allowed", "other-instructor": 403, bursar: 403, admin: "allowed",
    });
    expect(expectations({ kind: "courseStaff", roles: ["instructor", "grader"], course: "the submission's course" })).toEqual({
      anonymous: 401, learner: 403, "other-learner": 403, grader: "allowed", instructor: "allowed", "other-instructor": 403, bursar: 403, admin: "allowed",
    });
    expect(expectations({ kind: "owner", owner: "param:userId" })).toEqual({
      anonymous: 401, learner: "allowed", "other-learner": 403, grader: 403, instructor: 403, "other-instructor": 403, bursar: 403, admin: "allowed",
    });
    expect(expectations({ kind: "anyOf", policies: [{ kind: "owner", owner: "param:userId" }, { kind: "courseStaff", roles: ["grader"], course: "param:courseId" }] })).toEqual({
      anonymous: 401, learner: "allowed", "other-learner": 403, grader: "allowed", instructor: 403, "other-instructor": 403, bursar: 403, admin: "allowed",
    });
    expect(expectations({ kind: "finance" })).toEqual({
      anonymous: 401, learner: 403, "other-learner": 403, grader: 403, instructor: 403, "other-instructor": 403, bursar: "allowed", admin: "allowed",
    });
    expect(expectations({ kind: "anyOf", policies: [{ kind: "public" }, { kind: "admin" }] })).toEqual(Object.fromEntries(personas.map((p) => [p.name, "allowed"])));
  });

  it("leaves every caller's global role as it was after the matrix ran", async () => {
    const rows = await db.sql<{ id: string; is_admin: boolean; disabled_at: Date | null }[]>`
      select id, is_admin, disabled_at from users where id in ${db.sql(Object.values(users).map((u) => u.id))}`;
    const flags = Object.fromEntries(rows.map((r) => [r.id, { isAdmin: r.is_admin, disabled: r.disabled_at !== null }]));
    for (const [name, u] of Object.entries(users)) {
      expect(flags[u.id], name).toEqual({ isAdmin: name === "admin", disabled: false });
    }
  });
});
