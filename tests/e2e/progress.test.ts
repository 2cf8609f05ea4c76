import { afterAll, beforeAll, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { updateProgress } from "../../domain/progress/course-progress.js";
import { jsonOf, type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import { waitFor } from "../support/wait-for.js";
import type { TestDatabase } from "../support/database.js";
import { call, signUp } from "../support/identity.js";

let db: TestDatabase;
let app: RunningApp;

beforeAll(async () => ({ db, app } = await startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", LOCAL_DURABLE_DATA: "memory" })));
afterAll(() => stopAppAndDatabase({ db, app }));

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000) => waitFor(what, probe, { timeoutMs });

it("completes a course once its required lessons are done and its required quiz passed, exactly once", async () => {
  const admin = await signUp(app, db, { admin: true });
  const learner = await signUp(app, db);
  const { id: courseId } = (await (await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Chemistry", passPercent: 60 } })).json()) as { id: string };
  await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: admin.accessToken });
  const { id: moduleId } = (await (await call(app, "POST", `/v1/courses/${courseId}/modules`, { token: admin.accessToken, body: { title: "Basics" } })).json()) as { id: string };
  const lessonIds: string[] = [];
  for (const title of ["Atoms", "Bonds"]) {
    const res = await call(app, "POST", `/v1/courses/${courseId}/modules/${moduleId}/lessons`, { token: admin.accessToken, body: { title, kind: "text", body: `# ${title}` } });
    lessonIds.push(((await res.json()) as { id: string }).id);
  }
  const quiz = await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
    token: admin.accessToken,
    body: { title: "Check", kind: "quiz", requiredForCompletion: true, items: [{ id: "q", type: "true-false", points: 1 }], keys: { q: { type: "true-false", correct: true } } },
  });
  const { id: quizId } = (await quiz.json()) as { id: string };
  await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken });

  const start = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/progress`, { token: learner.accessToken }));
  expect(start).toMatchObject({ percent: 0, complete: false, next: { lessonId: lessonIds[0], title: "Atoms" } });

  for (const id of lessonIds) expect((await call(app, "POST", `/v1/lessons/${id}/complete`, { token: learner.accessToken })).status).toBe(200);
  const stored = await until("progress after the lessons", async () => {
    const [row] = await db.sql<{ percent: number }[]>`select percent from course_progress where course_id = ${courseId} and user_id = ${learner.id}`;
    return row && row.percent > 66 ? row : undefined;
  });
  expect(stored.percent).toBeCloseTo(66.67, 1);

  const attempt = (await (await call(app, "POST", `/v1/assessments/${quizId}/attempts`, { token: learner.accessToken })).json()) as { id: string };
  await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { q: true } } });
  await call(app, "POST", `/v1/attempts/${attempt.id}/submit`, { token: learner.accessToken });
  await until("course.completed", async () => (await db.sql`select 1 from outbox where type = 'course.completed' and course_id = ${courseId}`)[0]);

  const done = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/progress`, { token: learner.accessToken }));
  expect(done).toMatchObject({ percent: 100, complete: true, completedAt: expect.any(String), next: null });
  const [enrollment] = await db.sql`select completed_at from enrollments where course_id = ${courseId} and user_id = ${learner.id}`;
  expect(enrollment?.completed_at).not.toBeNull();
  const staffView = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/progress`, { token: admin.accessToken }));
  expect(staffView.items).toEqual([expect.objectContaining({ userId: learner.id, percent: 100 })]);

  // Recomputing again (a late or repeated event) changes nothing and emits nothing more.
  const ctx = { db: db.db, now: () => new Date(), newId: uuidv7, actor: { userId: null, requestId: null, clientIp: null, traceparent: null } };
  await Promise.all([updateProgress(ctx, courseId, learner.id), updateProgress(ctx, courseId, learner.id)]);
  expect(await db.sql`select 1 from outbox where type = 'course.completed' and course_id = ${courseId}`).toHaveLength(1);

  // The certificate: issued once, emailed with a download link, listed, and verifiable by anyone.
  const cert = await until("the certificate", async () => (await db.sql<{ code: string }[]>`select code from certificates where course_id = ${courseId} and user_id = ${learner.id}`)[0]);
  const mine = (await jsonOf(await call(app, "GET", "/v1/me/certificates", { token: learner.accessToken }))) as { items: { code: string; downloadUrl: string; courseTitle: string }[] };
  expect(mine.items).toEqual([expect.objectContaining({ code: cert.code, courseTitle: "Chemistry" })]);
  const pdf = Buffer.from(await (await fetch(mine.items[0]?.downloadUrl as string)).arrayBuffer());
  expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
  const verifiedRes = await call(app, "GET", `/v1/certificates/verify/${cert.code}`);
  // The verdict names the learner: no shared cache may keep it (it would outlive an erasure).
  expect(verifiedRes.headers.get("cache-control")).toBe("no-store");
  const verified = await jsonOf(verifiedRes);
  expect(verified).toMatchObject({ valid: true, courseTitle: "Chemistry", learnerName: expect.any(String) });
  expect(await jsonOf(await call(app, "GET", "/v1/certificates/verify/AAAA-BBBB-CCCC"))).toEqual({ valid: false });
  expect((await call(app, "GET", "/v1/certificates/verify/not-a-code")).status).toBe(400);
  const mail = await until("the certificate email", async () => {
    const mails = (await (await fetch(`${app.baseUrl}/admin/mailbox/messages`)).json()) as { to: string[]; subject: string; text: string }[];
    return mails.find((m) => m.to.some((t) => t.includes(learner.email)) && m.subject.includes("certificate"));
  });
  expect(mail.text).toContain(cert.code);
  expect(await db.sql`select 1 from certificates where course_id = ${courseId}`).toHaveLength(1);

  // Staff rebuild progress from the record: the same answer, and no second completion.
  const rebuilt = await jsonOf(await call(app, "POST", `/v1/courses/${courseId}/progress/recompute`, { token: admin.accessToken, body: {} }));
  expect(rebuilt).toEqual({ items: [{ userId: learner.id, percent: 100, complete: true }] });
  expect((await call(app, "POST", `/v1/courses/${courseId}/progress/recompute`, { token: learner.accessToken, body: {} })).status).toBe(403);
  expect(await db.sql`select 1 from outbox where type = 'course.completed' and course_id = ${courseId}`).toHaveLength(1);
}, 60_000);
