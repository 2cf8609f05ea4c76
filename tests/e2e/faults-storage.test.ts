import { afterAll, beforeAll, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { ownAzurite, removeDir, scratchDir } from "../support/restartable-services.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

/**
 * A route that meets the stopped storage answers within this: the blob client gives up after about a second of
 * retries (functions/platform/blob.ts); the SDK's default would hold it 16 s.
 */
const REQUEST_BOUND_MS = 5_000;
/** How many times the certificate worker fails before storage comes back (about a second each, with pauses of 1, 2 and 4 s between them). */
const DELIVERIES_DURING_OUTAGE = 4;
/** A certificate that failed while storage was down is issued within this once it is back (the pause after the 4th failure is 8 s). */
const CERTIFICATE_BOUND_MS = 30_000;

let dir: string;
let db: TestDatabase;
let azurite: Awaited<ReturnType<typeof ownAzurite>>;
let app: RunningApp;

beforeAll(async () => {
  dir = await scratchDir("ringlet-faults-blob-");
  [db, azurite] = await Promise.all([createTestDatabase(), ownAzurite(dir)]);
  // Only the app's file storage is stopped; the host's own storage (AzureWebJobsStorage) stays on the shared Azurite.
  app = await startApp({ env: { DATABASE_URL: db.url, BlobStorage: azurite.connectionString, OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *" } });
});

afterAll(async () => {
  await app?.stop();
  await azurite?.stop();
  await db?.drop();
  await removeDir(dir);
});

const until = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000) => waitFor(what, check, { timeoutMs, diagnostics: () => recentErrors(app) });

async function created(res: Response): Promise<{ id: string }> {
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string };
}

/** A published course with a text lesson (completing it completes the course) and a file lesson. */
async function course(admin: TestUser) {
  const { id: courseId } = await created(await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Storage outage" } }));
  await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: admin.accessToken });
  const { id: moduleId } = await created(await call(app, "POST", `/v1/courses/${courseId}/modules`, { token: admin.accessToken, body: { title: "One" } }));
  const lessons = `/v1/courses/${courseId}/modules/${moduleId}/lessons`;
  const { id: textLesson } = await created(await call(app, "POST", lessons, { token: admin.accessToken, body: { title: "Read", kind: "text", body: "x" } }));
  const { id: fileLesson } = await created(await call(app, "POST", lessons, { token: admin.accessToken, body: { title: "Slides", kind: "file", required: false } }));
  return { courseId, textLesson, fileLesson };
}

const timed = async (send: () => Promise<Response>) => {
  const started = Date.now();
  const res = await send();
  return { res, ms: Date.now() - started };
};

it("answers 503 where a route needs the stopped storage, and issues the certificate it could not write once storage is back", async () => {
  const admin = await signUp(app, db, { admin: true, label: "faults-admin" });
  const learner = await signUp(app, db, { label: "learner" });
  const { courseId, textLesson, fileLesson } = await course(admin);
  expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken })).status).toBe(201);
  const { id: assessmentId } = await created(
    await call(app, "POST", `/v1/courses/${courseId}/assessments`, { token: admin.accessToken, body: { title: "Report", kind: "assignment", items: [{ id: "f", type: "file", points: 1 }], keys: {} } }),
  );
  const { id: attemptId } = await created(await call(app, "POST", `/v1/assessments/${assessmentId}/attempts`, { token: learner.accessToken }));

  await azurite.stop();
  const ready = await fetch(`${app.baseUrl}/api/ready`);
  expect(ready.status).toBe(503);
  expect(await jsonOf(ready)).toMatchObject({ checks: { blob: { status: "down" }, postgres: { status: "up" } } });

  // Upload and download URLs are signed with the account key, without a call to storage: they are still
  // issued (in Azure, with a user-delegation key, a missing key would be the 503 below). Nothing answers 500.
  const slides = Buffer.from("%PDF-1.4 slides");
  const declared = { fileName: "slides.pdf", contentType: "application/pdf", sizeBytes: slides.length };
  const lessonGrant = await timed(() => call(app, "POST", `/v1/lessons/${fileLesson}/files`, { token: admin.accessToken, body: declared }));
  expect(lessonGrant.res.status).toBe(201);
  const answerGrant = await timed(() => call(app, "POST", `/v1/attempts/${attemptId}/files`, { token: learner.accessToken, body: { itemId: "f", ...declared } }));
  expect(answerGrant.res.status).toBe(201);
  // Confirming an upload reads the blob's properties from storage: 503 with Retry-After, promptly.
  const confirm = await timed(() => call(app, "POST", `/v1/lessons/${fileLesson}/files/confirm`, { token: admin.accessToken }));
  expect(confirm.res.status).toBe(503);
  expect(confirm.res.headers.get("content-type")).toBe("application/problem+json");
  expect(Number(confirm.res.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(await jsonOf(confirm.res)).toMatchObject({ code: "SERVICE_UNAVAILABLE", status: 503 });
  for (const { ms } of [lessonGrant, answerGrant, confirm]) expect(ms).toBeLessThan(REQUEST_BOUND_MS);

  // Completing the course asks for a certificate, whose PDF cannot be written now: the worker fails and retries.
  expect((await call(app, "POST", `/v1/lessons/${textLesson}/complete`, { token: learner.accessToken })).status).toBe(200);
  // Storage stays down until the worker has failed DELIVERIES_DURING_OUTAGE times (over 10 s): retried at once, as
  // Service Bus redelivers an abandoned message, its ten deliveries would be spent in about ten seconds and the
  // certificate dead-lettered; the worker's pauses between failures stretch the same ten over minutes.
  const heldBack = (line: string) =>
    line.includes('"subscription":"certificates"') && line.includes('"dependency":"blob"') && line.includes("retried after a pause") && Number(/"deliveryCount":(\d+)/.exec(line)?.[1]) >= DELIVERIES_DURING_OUTAGE;
  await until("the certificate worker failing through the outage", async () => (app.output().split("\n").some(heldBack) ? true : undefined), 45_000);
  expect(await db.sql`select 1 from certificates where course_id = ${courseId}`).toEqual([]);

  await azurite.start();
  const cert = await until(
    "the certificate once storage is back",
    async () => (await db.sql<{ code: string }[]>`select code from certificates where course_id = ${courseId} and user_id = ${learner.id}`)[0],
    CERTIFICATE_BOUND_MS,
  );
  const mine = (await jsonOf(await call(app, "GET", "/v1/me/certificates", { token: learner.accessToken }))) as { items: { code: string; downloadUrl: string }[] };
  expect(mine.items.map((c) => c.code)).toEqual([cert.code]);
  const pdf = await fetch(mine.items[0]?.downloadUrl as string);
  expect(pdf.status).toBe(200);
  expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe("%PDF-");
  expect(await jsonOf(await call(app, "GET", "/v1/ops/dead-letters?subscription=certificates", { token: admin.accessToken }))).toMatchObject({ items: [] });

  // The upload granted during the outage works now, and so does its confirmation.
  const grant = (await jsonOf(lessonGrant.res)) as { url: string; method: string; headers: Record<string, string> };
  expect((await fetch(grant.url, { method: grant.method, headers: grant.headers, body: slides })).status).toBe(201);
  expect((await call(app, "POST", `/v1/lessons/${fileLesson}/files/confirm`, { token: admin.accessToken })).status).toBe(200);
}, 90_000);
