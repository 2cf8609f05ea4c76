import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventCatalog, type EventType } from "../../../domain/events/catalog.js";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, signUp, type TestUser } from "../../support/identity.js";
import { expectProblem } from "../../support/problems.js";

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url } });
  admin = await signUp(app, db, { admin: true, label: "admin" });
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

async function publishedCourse(body: Record<string, unknown> = {}, publish = true): Promise<string> {
  const res = await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Enrollable", ...body } });
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = (await res.json()) as { id: string };
  if (publish) expect((await call(app, "POST", `/v1/courses/${id}/publish`, { token: admin.accessToken })).status).toBe(200);
  return id;
}

const enrollSelf = (courseId: string, user: TestUser, headers: Record<string, string> = {}) =>
  call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: user.accessToken, headers });

async function eventsOf(courseId: string) {
  const rows = await db.sql<{ type: string; data: unknown }[]>`select type, data from outbox where course_id = ${courseId} order by sequence`;
  for (const r of rows) expect(eventCatalog[r.type as EventType].safeParse(r.data).success, r.type).toBe(true);
  return rows.map((r) => r.type);
}

describe("self-enrollment", () => {
  it("answers one of a learner's concurrent enrollments 201 and the rest 409 ALREADY_ENROLLED, never 500", async () => {
    const courseId = await publishedCourse({ capacity: 5 });
    const learner = await signUp(app, db);
    // Different Idempotency-Keys: these are different requests, racing for the same learner's place.
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => enrollSelf(courseId, learner, { "idempotency-key": `race-${i}-${learner.id}` })));
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    for (const r of answers.filter((a) => a.status === 409)) await expectProblem(r, 409, "ALREADY_ENROLLED");
    expect((await eventsOf(courseId)).filter((t) => t.startsWith("enrollment."))).toEqual(["enrollment.created"]);
    const [row] = await db.sql<{ seats_taken: number }[]>`select seats_taken from courses where id = ${courseId}`;
    expect(row?.seats_taken).toBe(1);
  });

  it("enrolls into a published course and writes enrollment.created", async () => {
    const courseId = await publishedCourse({ capacity: 5 });
    const learner = await signUp(app, db);
    const res = await enrollSelf(courseId, learner);
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ courseId, userId: learner.id, status: "active", source: "self", position: null });
    expect(await eventsOf(courseId)).toContain("enrollment.created");
    const course = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}`));
    expect(course).toMatchObject({ seatsTaken: 1, seatsAvailable: 4 });
    const mine = (await jsonOf(await call(app, "GET", "/v1/me/enrollments", { token: learner.accessToken }))) as { items: { courseId: string; courseTitle: string }[] };
    expect(mine.items).toEqual([expect.objectContaining({ courseId, courseTitle: "Enrollable" })]);
  });

  it("answers with the stable codes", async () => {
    const learner = await signUp(app, db);
    await expectProblem(await enrollSelf(await publishedCourse({}, false), learner), 409, "COURSE_NOT_PUBLISHED");
    await expectProblem(await enrollSelf(await publishedCourse({ enrollmentClosesAt: "2020-01-01T00:00:00Z" }), learner), 409, "ENROLLMENT_CLOSED");
    await expectProblem(await enrollSelf(await publishedCourse({ enrollmentOpensAt: "2099-01-01T00:00:00Z" }), learner), 409, "ENROLLMENT_CLOSED");
    await expectProblem(await enrollSelf(await publishedCourse({ selfEnrollment: false }), learner), 409, "ENROLLMENT_CLOSED");
    const full = await publishedCourse({ capacity: 0, waitlistEnabled: false });
    await expectProblem(await enrollSelf(full, learner), 409, "COURSE_FULL");
    const open = await publishedCourse();
    expect((await enrollSelf(open, learner)).status).toBe(201);
    const again = await expectProblem(await enrollSelf(open, learner), 409, "ALREADY_ENROLLED");
    expect(again.status).toBe(409);
    await expectProblem(await enrollSelf(crypto.randomUUID(), learner), 404, "COURSE_NOT_FOUND");
    await expectProblem(await call(app, "POST", `/v1/courses/${open}/enrollments`, { token: learner.accessToken, body: { userId: "nope" } }), 400, "VALIDATION_FAILED");
  });

  it("refuses a course whose prerequisites are not completed, naming them", async () => {
    const basics = await publishedCourse({ title: "Basics" });
    const advanced = await publishedCourse({ title: "Advanced", prerequisiteCourseIds: [basics] });
    const learner = await signUp(app, db);
    const refused = await expectProblem(await enrollSelf(advanced, learner), 409, "PREREQUISITES_MISSING");
    expect(refused.missing).toEqual([{ courseId: basics, title: "Basics" }]);
    expect(refused.detail).toContain("Basics");
    expect((await enrollSelf(basics, learner)).status).toBe(201);
    await db.sql`update enrollments set completed_at = now() where course_id = ${basics} and user_id = ${learner.id}`;
    expect((await enrollSelf(advanced, learner)).status).toBe(201);
  });

  it("replays a retry with the same Idempotency-Key and creates one enrollment for concurrent duplicates", async () => {
    const courseId = await publishedCourse();
    const learner = await signUp(app, db);
    const key = { "idempotency-key": `enroll-${learner.id}` };
    const answers = await Promise.all([1, 2, 3, 4].map(() => enrollSelf(courseId, learner, key)));
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    const bodies = await Promise.all(answers.map((r) => r.json()));
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    const rows = await db.sql`select count(*)::int as n from enrollments where course_id = ${courseId} and user_id = ${learner.id}`;
    expect(rows[0]?.n).toBe(1);
    const retry = await enrollSelf(courseId, learner, key);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
  });
});

describe("capacity and the waitlist", () => {
  it("puts learners in line with positions and promotes the first when a seat frees (auto)", async () => {
    const courseId = await publishedCourse({ capacity: 1 });
    const [a, b, c] = await Promise.all([signUp(app, db), signUp(app, db), signUp(app, db)]);
    expect((await jsonOf(await enrollSelf(courseId, a))).status).toBe("active");
    expect(await jsonOf(await enrollSelf(courseId, b))).toMatchObject({ status: "waitlisted", position: 1 });
    expect(await jsonOf(await enrollSelf(courseId, c))).toMatchObject({ status: "waitlisted", position: 2 });
    expect((await call(app, "DELETE", `/v1/courses/${courseId}/enrollments/${a.id}`, { token: a.accessToken })).status).toBe(204);
    const roster = (await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/enrollments`, { token: admin.accessToken }))) as {
      items: { userId: string; status: string; position: number | null }[];
    };
    expect(roster.items.map((e) => [e.userId, e.status, e.position])).toEqual([
      [a.id, "dropped", null],
      [b.id, "active", null],
      [c.id, "waitlisted", 1],
    ]);
    expect(await eventsOf(courseId)).toEqual(
      expect.arrayContaining(["enrollment.created", "enrollment.waitlisted", "enrollment.waitlisted", "enrollment.dropped", "enrollment.promoted"]),
    );
  });

  it("offers a freed seat in offer mode; accept, decline and expiry move the line on", async () => {
    const courseId = await publishedCourse({ capacity: 1, waitlistMode: "offer", offerTtlHours: 1 });
    const [a, b, c, d] = await Promise.all([signUp(app, db), signUp(app, db), signUp(app, db), signUp(app, db)]);
    for (const u of [a, b, c, d]) await enrollSelf(courseId, u);
    await call(app, "DELETE", `/v1/courses/${courseId}/enrollments/${a.id}`, { token: a.accessToken });
    const status = async (u: TestUser) => (await db.sql`select status from enrollments where course_id = ${courseId} and user_id = ${u.id} order by created_at desc limit 1`)[0]?.status;
    expect(await status(b)).toBe("offered");
    // c has no offer to accept.
    await expectProblem(await call(app, "POST", `/v1/courses/${courseId}/enrollments/offer/accept`, { token: c.accessToken }), 409, "NO_OPEN_OFFER");
    // b declines: the offer moves to c.
    expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments/offer/decline`, { token: b.accessToken })).status).toBe(200);
    expect(await status(c)).toBe("offered");
    // c lets it expire: the waitlist timer (fired through the host's admin API) offers it to d.
    await db.sql`update enrollments set offer_expires_at = now() - interval '1 minute' where course_id = ${courseId} and user_id = ${c.id}`;
    await expectProblem(await call(app, "POST", `/v1/courses/${courseId}/enrollments/offer/accept`, { token: c.accessToken }), 410, "OFFER_EXPIRED");
    const fired = await fetch(`${app.baseUrl}/admin/functions/waitlist-offers-expire`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input: "" }) });
    expect(fired.status).toBe(202);
    for (let i = 0; i < 50 && (await status(d)) !== "offered"; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await status(c)).toBe("offer-expired");
    expect(await status(d)).toBe("offered");
    const accepted = await call(app, "POST", `/v1/courses/${courseId}/enrollments/offer/accept`, { token: d.accessToken });
    expect(accepted.status).toBe(200);
    expect((await accepted.json()) as { status: string }).toMatchObject({ status: "active" });
    const seats = await db.sql`select seats_taken from courses where id = ${courseId}`;
    expect(seats[0]?.seats_taken).toBe(1);
    expect(await eventsOf(courseId)).toEqual(
      expect.arrayContaining(["enrollment.offered", "enrollment.offer-declined", "enrollment.offer-expired", "enrollment.promoted"]),
    );
  });

  it("fills new seats from the waitlist when capacity grows", async () => {
    const courseId = await publishedCourse({ capacity: 1 });
    const [a, b, c] = await Promise.all([signUp(app, db), signUp(app, db), signUp(app, db)]);
    for (const u of [a, b, c]) await enrollSelf(courseId, u);
    const etag = (await call(app, "GET", `/v1/courses/${courseId}`)).headers.get("etag") as string;
    const res = await call(app, "PATCH", `/v1/courses/${courseId}`, { token: admin.accessToken, body: { capacity: 3 }, headers: { "if-match": etag } });
    expect(await jsonOf(res)).toMatchObject({ capacity: 3, seatsTaken: 3 });
  });
});

describe("enrollment by staff and removal", () => {
  it("lets instructors enroll others (past the window) and remove them; learners cannot", async () => {
    const courseId = await publishedCourse({ enrollmentClosesAt: "2020-01-01T00:00:00Z" });
    const [learner, other] = await Promise.all([signUp(app, db), signUp(app, db)]);
    await expectProblem(await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: other.accessToken, body: { userId: learner.id } }), 403, "FORBIDDEN");
    const res = await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: admin.accessToken, body: { userId: learner.id } });
    expect(await jsonOf(res)).toMatchObject({ status: "active", source: "staff", userId: learner.id });
    await expectProblem(await call(app, "DELETE", `/v1/courses/${courseId}/enrollments/${learner.id}`, { token: other.accessToken }), 403, "FORBIDDEN");
    expect((await call(app, "DELETE", `/v1/courses/${courseId}/enrollments/${learner.id}`, { token: admin.accessToken })).status).toBe(204);
    await expectProblem(await call(app, "DELETE", `/v1/courses/${courseId}/enrollments/${learner.id}`, { token: admin.accessToken }), 404, "ENROLLMENT_NOT_FOUND");
    const [row] = await db.sql`select status from enrollments where course_id = ${courseId} and user_id = ${learner.id}`;
    expect(row?.status).toBe("removed");
  });
});

describe("invitations", () => {
  it("enrolls the invited address once, past a closed window", async () => {
    const courseId = await publishedCourse({ selfEnrollment: false });
    const learner = await signUp(app, db);
    const created = await call(app, "POST", `/v1/courses/${courseId}/invitations`, { token: admin.accessToken, body: { email: learner.email } });
    expect(created.status).toBe(201);
    const [event] = await db.sql<{ data: { token: string } }[]>`select data from outbox where course_id = ${courseId} and type = 'enrollment.invited'`;
    const token = event?.data.token as string;
    const stored = await db.sql`select token_hash from invitations where course_id = ${courseId}`;
    expect(stored[0]?.token_hash).not.toBe(token);
    const stranger = await signUp(app, db);
    await expectProblem(await call(app, "POST", "/v1/invitations/accept", { token: stranger.accessToken, body: { token } }), 403, "INVITATION_EMAIL_MISMATCH");
    const accepted = await call(app, "POST", "/v1/invitations/accept", { token: learner.accessToken, body: { token } });
    expect(await jsonOf(accepted)).toMatchObject({ status: "active", source: "invitation" });
    await expectProblem(await call(app, "POST", "/v1/invitations/accept", { token: learner.accessToken, body: { token } }), 409, "INVITATION_USED");
    await expectProblem(await call(app, "POST", "/v1/invitations/accept", { token: learner.accessToken, body: { token: "x".repeat(32) } }), 404, "INVITATION_NOT_FOUND");
  });

  it("refuses an expired invitation with INVITATION_EXPIRED", async () => {
    const courseId = await publishedCourse();
    const learner = await signUp(app, db);
    await call(app, "POST", `/v1/courses/${courseId}/invitations`, { token: admin.accessToken, body: { email: learner.email, expiresInHours: 1 } });
    const [event] = await db.sql<{ data: { token: string } }[]>`select data from outbox where course_id = ${courseId} and type = 'enrollment.invited'`;
    await db.sql`update invitations set expires_at = now() - interval '1 second' where course_id = ${courseId}`;
    await expectProblem(await call(app, "POST", "/v1/invitations/accept", { token: learner.accessToken, body: { token: event?.data.token } }), 410, "INVITATION_EXPIRED");
  });
});
