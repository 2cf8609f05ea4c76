import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../../support/app.js";
import type { TestDatabase } from "../../support/database.js";
import { call, createCourse, login, signUp, type TestUser } from "../../support/identity.js";
import { expectProblem } from "../../support/problems.js";

let started: { db: TestDatabase; app: RunningApp };
let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;

beforeAll(async () => {
  started = await startAppOnOwnDatabase({ AUTH_LOGIN_SLOW_AFTER: "1000" });
  ({ db, app } = started);
  admin = await signUp(app, db, { label: "admin", admin: true });
});

afterAll(() => stopAppAndDatabase(started));

const deactivate = (userId: string, body?: unknown, token = admin.accessToken) =>
  call(app, "POST", `/v1/users/${userId}/deactivate`, { token, ...(body !== undefined ? { body } : {}) });
const reactivate = (userId: string, token = admin.accessToken) => call(app, "POST", `/v1/users/${userId}/reactivate`, { token });
const audit = (action: string, targetId: string) => db.sql`select * from audit_log where action = ${action} and target_id = ${targetId} order by id`;

async function enrolledLearnerWithGrade(): Promise<{ learner: TestUser; courseId: string; assessmentId: string }> {
  const learner = await signUp(app, db, { label: "learner" });
  const instructor = await signUp(app, db, { label: "instructor" });
  const courseId = await createCourse(db, [{ userId: instructor.id, role: "instructor" }]);
  const assessmentId = crypto.randomUUID();
  const attemptId = crypto.randomUUID();
  await db.sql`insert into enrollments (id, course_id, user_id, status, source, enrolled_at) values (${crypto.randomUUID()}, ${courseId}, ${learner.id}, 'active', 'staff', now())`;
  await db.sql`insert into assessments (id, course_id, title, kind, items) values (${assessmentId}, ${courseId}, 'Quiz', 'quiz', '[]'::jsonb)`;
  await db.sql`insert into attempts (id, assessment_id, course_id, user_id, number, status, started_at, submitted_at, submitted_by)
    values (${attemptId}, ${assessmentId}, ${courseId}, ${learner.id}, 1, 'submitted', now(), now(), 'learner')`;
  await db.sql`insert into grades (id, submission_id, assessment_id, course_id, user_id, version, key_version, percent, item_scores, explanation)
    values (${crypto.randomUUID()}, ${attemptId}, ${assessmentId}, ${courseId}, ${learner.id}, 1, 1, 80, '[]'::jsonb, '[]'::jsonb)`;
  return { learner, courseId, assessmentId };
}

describe("deactivating an account", () => {
  it("ends every session at once, refuses sign-in saying so, keeps every record and marks the learner inactive in gradebooks", async () => {
    const { learner, courseId, assessmentId } = await enrolledLearnerWithGrade();
    expect((await call(app, "GET", "/v1/me", { token: learner.accessToken })).status).toBe(200);

    const res = await deactivate(learner.id, { reason: "Left the school" });
    expect(res.status).toBe(200);
    const body = await jsonOf(res);
    expect(body).toMatchObject({ changed: true, revokedSessions: 1, user: { id: learner.id, disabled: true, deactivatedAt: expect.any(String) } });

    // The access token is refused on its next request (the caller's flags are read per request), not at expiry.
    await expectProblem(await call(app, "GET", "/v1/me", { token: learner.accessToken }), 401, "UNAUTHENTICATED");
    const refreshed = await expectProblem(await call(app, "POST", "/v1/auth/refresh", { body: { refreshToken: learner.refreshToken } }), 403, "ACCOUNT_DISABLED");
    expect(refreshed.detail).toMatch(/contact your administrator/);
    // The order of sign-in is kept: a wrong password reveals nothing; the right one is told the account is deactivated.
    await expectProblem(await login(app, learner.email, "Wrong-password-123"), 401, "INVALID_CREDENTIALS");
    const refused = await expectProblem(await login(app, learner.email, learner.password), 403, "ACCOUNT_DISABLED");
    expect(refused.detail).toMatch(/deactivated; contact your administrator/);

    const [entry] = await audit("user.deactivated", learner.id);
    expect(entry).toMatchObject({ actor_user_id: admin.id, details: { reason: "Left the school", revokedSessions: 1 } });
    const [event] = await db.sql`select data from outbox where type = 'user.deactivated' and aggregate_id = ${learner.id}`;
    expect(event?.data).toEqual({ userId: learner.id, deactivatedAt: body.user && (body.user as { deactivatedAt: string }).deactivatedAt });
    const [live] = await db.sql`select count(*)::int as n from refresh_tokens where user_id = ${learner.id} and revoked_at is null`;
    expect(live?.n).toBe(0);
    const [kept] = await db.sql`select (select count(*)::int from enrollments where user_id = ${learner.id}) as enrollments, (select count(*)::int from grades where user_id = ${learner.id}) as grades`;
    expect(kept).toEqual({ enrollments: 1, grades: 1 });

    const book = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/gradebook`, { token: admin.accessToken }));
    expect(book.items).toEqual([expect.objectContaining({ userId: learner.id, inactive: true, results: { [assessmentId]: 80 } })]);
    const csv = await (await call(app, "GET", `/v1/courses/${courseId}/gradebook?format=csv`, { token: admin.accessToken })).text();
    const [header, row] = csv.trim().split("\r\n");
    expect(header?.split(",").at(-1)).toBe("inactive");
    expect(row?.startsWith(learner.id)).toBe(true);
    expect(row?.split(",").at(-1)).toBe("true");

    const deactivated = await jsonOf(await call(app, "GET", `/v1/users?status=deactivated&email=${encodeURIComponent(learner.email)}`, { token: admin.accessToken }));
    expect((deactivated.items as { id: string }[]).map((u) => u.id)).toEqual([learner.id]);
    const active = await jsonOf(await call(app, "GET", `/v1/users?status=active&email=${encodeURIComponent(learner.email)}`, { token: admin.accessToken }));
    expect(active.items).toEqual([]);

    // Idempotent: deactivating again changes nothing and records nothing.
    const again = await jsonOf(await deactivate(learner.id));
    expect(again).toMatchObject({ changed: false, revokedSessions: 0, user: { disabled: true } });
    expect(await audit("user.deactivated", learner.id)).toHaveLength(1);
  });

  it("refuses an unknown user, oneself, a long reason and a caller who is not an admin, changing nothing", async () => {
    const learner = await signUp(app, db, { label: "bystander" });
    await expectProblem(await deactivate(crypto.randomUUID()), 404, "USER_NOT_FOUND");
    await expectProblem(await reactivate(crypto.randomUUID()), 404, "USER_NOT_FOUND");
    await expectProblem(await deactivate(admin.id), 409, "CANNOT_DEACTIVATE_SELF");
    await expectProblem(await deactivate(learner.id, { reason: "x".repeat(501) }), 400, "VALIDATION_FAILED");
    await expectProblem(await deactivate(admin.id, {}, learner.accessToken), 403, "FORBIDDEN");
    const [row] = await db.sql`select (select disabled_at from users where id = ${learner.id}) as learner, (select disabled_at from users where id = ${admin.id}) as admin`;
    expect(row).toEqual({ learner: null, admin: null });
  });

  it("keeps an active admin when two admins deactivate each other at once", async () => {
    const a = await signUp(app, db, { label: "admin-a", admin: true });
    const b = await signUp(app, db, { label: "admin-b", admin: true });
    // Only these two (and the file's admin, set aside for this case) are admins.
    await db.sql`update users set is_admin = false where id = ${admin.id}`;
    try {
      const [ab, ba] = await Promise.all([deactivate(b.id, {}, a.accessToken), deactivate(a.id, {}, b.accessToken)]);
      const statuses = [ab.status, ba.status].sort();
      expect(statuses[0]).toBe(200);
      // The loser was deactivated first: its token is refused (401), or the check sees no admin would remain (409).
      expect([401, 409]).toContain(statuses[1]);
      const [left] = await db.sql`select count(*)::int as n from users where is_admin and disabled_at is null and id in ${db.sql([a.id, b.id])}`;
      expect(left?.n).toBe(1);
    } finally {
      await db.sql`update users set is_admin = true where id = ${admin.id}`;
    }
  });
});

describe("deactivation and a scheduled erasure", () => {
  /** The state scheduling an erasure leaves: the request holds the account's disablement. */
  async function scheduledErasure(userId: string): Promise<string> {
    const id = crypto.randomUUID();
    const [row] = await db.sql<{ created_at: Date }[]>`update users set disabled_at = now() where id = ${userId} returning disabled_at as created_at`;
    await db.sql`insert into erasure_requests (id, user_id, status, requested_by_user_id, due_at, disabled_account, created_at, updated_at)
      values (${id}, ${userId}, 'scheduled', ${userId}, now() + interval '1 day', true, ${row?.created_at ?? null}, now())`;
    return id;
  }

  it("an admin's deactivation takes the disablement over: cancelling the erasure leaves the account deactivated", async () => {
    const learner = await signUp(app, db, { label: "erasing" });
    const erasureId = await scheduledErasure(learner.id);
    const res = await deactivate(learner.id, { reason: "Abuse" });
    expect(await jsonOf(res)).toMatchObject({ changed: true, user: { disabled: true } });
    expect(await audit("user.deactivated", learner.id)).toEqual([expect.objectContaining({ details: expect.objectContaining({ reason: "Abuse", takenOverFromErasure: erasureId }) })]);
    const [held] = await db.sql`select disabled_account from erasure_requests where id = ${erasureId}`;
    expect(held?.disabled_account).toBe(false);
    // Reactivating while the erasure is scheduled is refused: cancelling it is the way.
    await expectProblem(await reactivate(learner.id), 409, "ERASURE_ALREADY_SCHEDULED");
    expect((await call(app, "DELETE", `/v1/users/${learner.id}/erase`, { token: admin.accessToken })).status).toBe(200);
    await expectProblem(await login(app, learner.email, learner.password), 403, "ACCOUNT_DISABLED");
    expect(await jsonOf(await deactivate(learner.id))).toMatchObject({ changed: false });
  });

  it("refuses to reactivate an erased account", async () => {
    const learner = await signUp(app, db, { label: "erased" });
    await db.sql`update users set disabled_at = now(), erased_at = now() where id = ${learner.id}`;
    await expectProblem(await reactivate(learner.id), 409, "USER_ALREADY_ERASED");
    const [row] = await db.sql`select disabled_at from users where id = ${learner.id}`;
    expect(row?.disabled_at).not.toBeNull();
  });
});

describe("the last active admin", () => {
  it("cannot demote themself while the only other admin is deactivated", async () => {
    const other = await signUp(app, db, { label: "other-admin", admin: true });
    await db.sql`update users set disabled_at = now() where id = ${other.id}`;
    // Every other admin of this file's database is deactivated for the case.
    const active = (await db.sql<{ id: string }[]>`select id from users where is_admin and disabled_at is null and id <> ${admin.id}`).map((r) => r.id);
    if (active.length > 0) await db.sql`update users set disabled_at = now() where id in ${db.sql(active)}`;
    try {
      await expectProblem(await call(app, "PUT", `/v1/users/${admin.id}/roles`, { token: admin.accessToken, body: { roles: [] } }), 409, "LAST_ADMIN");
      const [me] = await db.sql`select is_admin from users where id = ${admin.id}`;
      expect(me?.is_admin).toBe(true);
    } finally {
      if (active.length > 0) await db.sql`update users set disabled_at = null where id in ${db.sql(active)}`;
    }
  });
});

describe("reactivating an account", () => {
  it("lets the user sign in again, audited, and is idempotent", async () => {
    const learner = await signUp(app, db, { label: "returning" });
    expect((await deactivate(learner.id)).status).toBe(200);
    const res = await reactivate(learner.id);
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toMatchObject({ changed: true, user: { disabled: false, deactivatedAt: null } });
    expect((await login(app, learner.email, learner.password)).status).toBe(200);
    expect(await audit("user.reactivated", learner.id)).toHaveLength(1);
    expect(await jsonOf(await reactivate(learner.id))).toMatchObject({ changed: false });
    expect(await audit("user.reactivated", learner.id)).toHaveLength(1);
    const events = await db.sql`select type from outbox where aggregate_id = ${learner.id} and type in ('user.deactivated', 'user.reactivated') order by id`;
    expect(events.map((e) => e.type)).toEqual(["user.deactivated", "user.reactivated"]);
  });
});
