import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { Agent } from "node:https";
import type { AddressInfo } from "node:net";
import { CosmosClient } from "@azure/cosmos";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, login, signUp, strongPassword, type TestUser } from "../support/identity.js";
import { waitForMail } from "../support/mailbox.js";
import { ownCosmos } from "../support/restartable-services.js";
import { recentErrors, waitFor } from "../support/wait-for.js";
import { fireFunction } from "../support/timers.js";

// Erasure end to end: a learner with every kind of personal data the platform keeps asks for their erasure, the
// grace period passes on a durable timer, and then no table, blob or Cosmos item holds their email, name or free
// text, while their grade and the course's statistics still count them under a pseudonym.

let db: TestDatabase;
let app: RunningApp;
let cosmos: Awaited<ReturnType<typeof ownCosmos>>;
let receiver: Server;
const received: string[] = [];
let admin: TestUser;
// Containers of this file's own: the shared Azurite holds other files' blobs too, which the scan also reads.
const suffix = randomBytes(3).toString("hex");
const containers = { files: `erasure-files-${suffix}`, submissions: `erasure-subs-${suffix}`, certificates: `erasure-certs-${suffix}`, exports: `erasure-exports-${suffix}` };

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push(body);
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
  [db, cosmos] = await Promise.all([createTestDatabase(), ownCosmos()]);
  app = await startApp({
    env: {
      DATABASE_URL: db.url,
      CosmosConnection: cosmos.connectionString,
      OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *",
      EMAIL_RETRY_SCHEDULE: "*/1 * * * * *",
      WEBHOOK_RETRY_SCHEDULE: "*/1 * * * * *",
      WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true",
      // 7.2 seconds of grace
      PRIVACY_ERASURE_GRACE_H: "0.002",
      BLOB_CONTAINER_COURSE_FILES: containers.files,
      BLOB_CONTAINER_SUBMISSIONS: containers.submissions,
      BLOB_CONTAINER_CERTIFICATES: containers.certificates,
      BLOB_CONTAINER_PRIVACY_EXPORTS: containers.exports,
      // Far off: the scheduled erasures here must be the durable timers' work; the sweep test fires housekeeping itself.
      HOUSEKEEPING_SCHEDULE: "0 0 0 1 1 *",
    },
  });
  admin = await signUp(app, db, { admin: true, label: "erasure-admin" });
  // Every learner's user.registered goes to the receiver: the first test checks its delivery is erased, the admin
  // test waits for it before erasing (tests run side by side, so the hook exists before any of them).
  const hook = await call(app, "POST", "/v1/webhooks", { token: admin.accessToken, body: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, eventTypes: ["user.registered"] } });
  expect(hook.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await cosmos?.stop();
  await db?.drop();
  await new Promise((r) => receiver?.close(r));
});

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000) => waitFor(what, probe, { timeoutMs, diagnostics: () => recentErrors(app) });

const erasureNotice = (address: string) => waitForMail(app, address, "Your Ringlet account will be erased on", { timeoutMs: 30_000 });

/** A learner registered through the API with a name and address nothing else in the system contains. */
async function distinctLearner(options: { failedSignInFirst?: boolean; displayName?: string } = {}): Promise<TestUser & { displayName: string }> {
  const tag = randomBytes(4).toString("hex");
  const email = `zq-${tag}@example.test`;
  const displayName = options.displayName ?? `Zephyrine Quillfeather ${tag}`;
  const password = strongPassword();
  // A sign-in with the address before the account exists: the audit entry names the typed address.
  if (options.failedSignInFirst) expect((await login(app, email, "no-account-yet")).status).toBe(401);
  const res = await call(app, "POST", "/v1/auth/register", { body: { email, password, displayName } });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  await db.sql`update users set email_verified_at = now() where id = ${id}`;
  const tokens = (await (await login(app, email, password)).json()) as { accessToken: string; refreshToken: string };
  return { id, email, password, displayName, ...tokens };
}

/** Every text, json and array column of every table, searched for each needle: the hits as `table.column: needle`. */
async function databaseHits(needles: readonly string[]): Promise<string[]> {
  const columns = await db.sql<{ table_name: string; column_name: string }[]>`
    select c.table_name, c.column_name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
    where c.table_schema = 'public' and (c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'tsvector'))`;
  expect(columns.length).toBeGreaterThan(40);
  const hits: string[] = [];
  for (const { table_name: table, column_name: column } of columns) {
    for (const needle of needles) {
      const pattern = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const rows = await db.sql`select 1 from ${db.sql(table)} where ${db.sql(column)}::text ilike ${pattern} limit 1`;
      if (rows.length > 0) hits.push(`${table}.${column}: ${needle}`);
    }
  }
  return hits;
}

/** Every blob of every container in the storage account, searched for each needle. */
async function blobHits(needles: readonly string[]): Promise<string[]> {
  const service = BlobServiceClient.fromConnectionString(inject("storageConnectionString"));
  const hits: string[] = [];
  for await (const container of service.listContainers()) {
    const client = service.getContainerClient(container.name);
    for await (const blob of client.listBlobsFlat()) {
      if ((blob.properties.contentLength ?? 0) > 20 * 1024 ** 2) continue;
      // Other test files share the storage account: a blob they delete between the listing and the read is gone.
      const bytes = await client.getBlobClient(blob.name).downloadToBuffer().catch((err: unknown) => {
        if ((err as { statusCode?: number }).statusCode === 404) return null;
        throw err;
      });
      if (!bytes) continue;
      const text = bytes.toString("latin1").toLowerCase();
      for (const needle of needles) if (text.includes(needle.toLowerCase())) hits.push(`${container.name}/${blob.name}: ${needle}`);
    }
  }
  return hits;
}

/** Every item of every container of every Cosmos database, searched for each needle. */
async function cosmosHits(needles: readonly string[]): Promise<string[]> {
  const client = new CosmosClient({ connectionString: cosmos.connectionString, agent: new Agent({ rejectUnauthorized: false }) });
  const hits: string[] = [];
  const { resources: databases } = await client.databases.readAll().fetchAll();
  for (const d of databases) {
    const { resources: list } = await client.database(d.id).containers.readAll().fetchAll();
    for (const c of list) {
      const { resources: items } = await client.database(d.id).container(c.id).items.readAll().fetchAll();
      for (const item of items) {
        const text = JSON.stringify(item).toLowerCase();
        for (const needle of needles) if (text.includes(needle.toLowerCase())) hits.push(`${d.id}/${c.id}/${String(item.id)}: ${needle}`);
      }
    }
  }
  client.dispose();
  return hits;
}

/** The durable instance of an erasure request's grace period, as the runtime reports it. */
async function erasureInstance(erasureId: string): Promise<{ runtimeStatus: string; customStatus: unknown; output: unknown }> {
  return (await (await fetch(`${app.baseUrl}/runtime/webhooks/durabletask/instances/erasure-${erasureId}`)).json()) as { runtimeStatus: string; customStatus: unknown; output: unknown };
}

/** Fires the housekeeping timer now (the runtime's admin endpoint), and waits for it to have run. */
async function runHousekeeping(): Promise<void> {
  const fired = await fireFunction(app, "housekeeping");
  expect(fired.status).toBeLessThan(300);
}

async function eraseStatus(userId: string): Promise<{ status: string; dueAt: string }> {
  return (await jsonOf(await call(app, "GET", `/v1/users/${userId}/erase`, { token: admin.accessToken }))) as { status: string; dueAt: string };
}

// The first four tests run side by side: each works on learners, courses and rows of its own (names and addresses
// nothing else contains), and most of their time is spent waiting (grace periods, timers, the outbox), so their
// waits overlap instead of adding up. The housekeeping test runs after them, alone: housekeeping carries out any
// overdue scheduled erasure, and must not take the first test's from its durable timer.
describe("erasure", () => {
  it.concurrent("leaves no email, name or free text of an erased learner in any table, blob or Cosmos item, and keeps their grade under a pseudonym", async () => {
    const learner = await distinctLearner({ failedSignInFirst: true });
    const freeText = `Photosynthesis-${randomBytes(5).toString("hex")} turns light into sugar`;
    expect((await login(app, learner.email, "not-the-password")).status).toBe(401);

    const { id: courseId } = (await jsonOf(await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Botany" } }))) as { id: string };
    expect((await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: admin.accessToken })).status).toBeLessThan(300);
    const created = await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
      token: admin.accessToken,
      body: {
        title: "Field notes",
        kind: "assignment",
        requiredForCompletion: true,
        items: [
          { id: "e1", type: "essay", points: 10 },
          { id: "f1", type: "file", points: 10 },
        ],
        keys: {},
      },
    });
    expect(created.status).toBe(201);
    const { id: assessmentId } = (await created.json()) as { id: string };
    expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken })).status).toBe(201);

    const attempt = (await jsonOf(await call(app, "POST", `/v1/assessments/${assessmentId}/attempts`, { token: learner.accessToken }))) as { id: string };
    const fileBody = `My field notes, by ${learner.displayName} <${learner.email}>: ${freeText}`;
    const upload = (await jsonOf(
      await call(app, "POST", `/v1/attempts/${attempt.id}/files`, { token: learner.accessToken, body: { itemId: "f1", fileName: "notes.txt", contentType: "text/plain", sizeBytes: Buffer.byteLength(fileBody) } }),
    )) as { blobName: string; url: string; headers: Record<string, string> };
    expect((await fetch(upload.url, { method: "PUT", headers: upload.headers, body: fileBody })).status).toBe(201);
    // A second upload for the same item, never saved as the answer (replaced by the first): still the learner's file.
    const draft = (await jsonOf(
      await call(app, "POST", `/v1/attempts/${attempt.id}/files`, { token: learner.accessToken, body: { itemId: "f1", fileName: "draft.txt", contentType: "text/plain", sizeBytes: Buffer.byteLength(`Draft: ${fileBody}`) } }),
    )) as { blobName: string; url: string; headers: Record<string, string> };
    expect((await fetch(draft.url, { method: "PUT", headers: draft.headers, body: `Draft: ${fileBody}` })).status).toBe(201);
    expect((await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { e1: freeText, f1: upload.blobName } } })).status).toBe(200);
    expect((await call(app, "POST", `/v1/attempts/${attempt.id}/submit`, { token: learner.accessToken })).status).toBe(200);
    await until("the grading orchestration to wait for a grader", async () => {
      const s = await jsonOf(await call(app, "GET", `/v1/submissions/${attempt.id}/grading`, { token: admin.accessToken }));
      return (s.customStatus as { phase?: string } | null)?.phase === "waiting-for-grader" ? s : undefined;
    });
    // f1 is scored by rubric, its comment quoting the learner: a regrade after the erasure rebuilds from it.
    const rubric = (await jsonOf(
      await call(app, "POST", `/v1/courses/${courseId}/rubrics`, { token: admin.accessToken, body: { title: "Notes", criteria: [{ kind: "free-points", id: "care", title: "Care", maxPoints: 10 }] } }),
    )) as { id: string };
    expect((await call(app, "PUT", `/v1/assessments/${assessmentId}/rubrics`, { token: admin.accessToken, body: { items: { f1: rubric.id }, whole: null } })).status).toBe(200);
    const scored = await call(app, "POST", `/v1/submissions/${attempt.id}/grades`, {
      token: admin.accessToken,
      body: {
        scores: [
          { itemId: "e1", points: 9, feedback: `"${freeText}" is well put, ${learner.displayName}` },
          { itemId: "f1", rubric: { criteria: [{ criterionId: "care", points: 8, comment: `Tidy notes, ${learner.displayName}` }] }, feedback: "Tidy notes" },
        ],
      },
    });
    expect(scored.status).toBe(200);
    const grade = await until("the grade", async () => (await db.sql<{ id: string; percent: number }[]>`select id, percent from grades where submission_id = ${attempt.id}`)[0]);
    expect(grade.percent).toBe(85);
    const certificate = await until("the certificate", async () => (await db.sql<{ code: string; blob_name: string }[]>`select code, blob_name from certificates where user_id = ${learner.id}`)[0]);
    const statement = { id: "note-1", verb: "answered", object: { type: "course", id: courseId }, result: { response: freeText }, timestamp: new Date().toISOString() };
    expect((await call(app, "POST", "/v1/activity", { token: learner.accessToken, body: { statements: [statement] } })).status).toBe(202);
    await until("the server's statements in the learner's timeline", async () => {
      const page = (await jsonOf(await call(app, "GET", "/v1/me/activity?limit=50", { token: learner.accessToken }))) as { items: { verb: string }[] };
      return page.items.some((i) => i.verb === "certified") && page.items.some((i) => i.verb === "graded") ? true : undefined;
    });
    await until("the webhook delivery of user.registered", async () => (received.some((b) => b.includes(learner.email)) ? true : undefined));
    await until("the certificate email sent", async () => (await db.sql`select 1 from email_deliveries where recipient = ${learner.email} and template = 'certificate-issued' and status = 'sent'`)[0]);
    const analyticsBefore = await until("the course statistics", async () => {
      const a = (await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/analytics`, { token: admin.accessToken }))) as { summary: { enrolled: number; completed: number }; grades: { overall: { graded: number } } };
      return a.summary.completed === 1 && a.grades.overall.graded === 1 ? a : undefined;
    });

    // A finished data export (its archive), and a failed one whose staged parts were left behind.
    const exported = (await jsonOf(await call(app, "POST", "/v1/me/data-export", { token: learner.accessToken }))) as { id: string };
    await until("the data export ready", async () => ((await jsonOf(await call(app, "GET", `/v1/me/data-export/${exported.id}`, { token: learner.accessToken }))).status === "ready" ? true : undefined));
    const [failedExport] = await db.sql<{ id: string }[]>`
      insert into data_exports (id, user_id, status, progress, requested_at, error) values (gen_random_uuid(), ${learner.id}, 'failed', '{"step":"archive","stepsDone":10,"stepsTotal":12}', now(), 'Blob Storage refused') returning id`;
    const exportsContainer = BlobServiceClient.fromConnectionString(inject("storageConnectionString")).getContainerClient(containers.exports);
    const staged = `privacy-exports/${learner.id}/staging/${failedExport?.id}/profile.json`;
    await exportsContainer.getBlockBlobClient(staged).upload(JSON.stringify([{ email: learner.email, displayName: learner.displayName }]), 100);
    const exportBlobs = async () => {
      const names: string[] = [];
      for await (const b of exportsContainer.listBlobsFlat({ prefix: `privacy-exports/${learner.id}/` })) names.push(b.name);
      return names.sort();
    };
    // The finished export's own staging goes right after it is marked ready.
    const expectedBlobs = JSON.stringify([`privacy-exports/${learner.id}/${exported.id}.zip`, staged].sort());
    await until("only the archive and the failed export's staging left", async () => (JSON.stringify(await exportBlobs()) === expectedBlobs ? true : undefined));

    // A certificate PDF whose row was rolled back (the PDF is written first): no row names it, the prefix does.
    const orphanPdf = `certificates/${courseId}/${learner.id}/${randomUUID()}.pdf`;
    const certificatesContainer = BlobServiceClient.fromConnectionString(inject("storageConnectionString")).getContainerClient(containers.certificates);
    await certificatesContainer.getBlockBlobClient(orphanPdf).upload(`Certificate of ${learner.displayName}`, Buffer.byteLength(`Certificate of ${learner.displayName}`));
    // Entries without an actor about the learner (the sign-in that failed before the account existed) keep the address it came from.
    const actorless = await db.sql<{ id: string }[]>`select id from audit_log where actor_user_id is null and target_id in (${learner.id}, ${learner.email}) and client_ip is not null`;
    expect(actorless.length).toBeGreaterThan(0);

    // The scans find what they look for before the erasure (so that finding nothing afterwards means something).
    const needles = [learner.email, learner.displayName, freeText];
    const before = await databaseHits(needles);
    for (const expected of ["users.email", "users.display_name", "attempts.answers", "audit_log.target_id", "login_throttles.key", "email_deliveries.recipient", "outbox.data", "webhook_deliveries.payload", "certificates.learner_name", "manual_scores.feedback", "manual_scores.rubric"]) {
      expect(before.some((h) => h.startsWith(`${expected}:`)), `${expected} before the erasure (hits: ${before.join(", ")})`).toBe(true);
    }
    expect((await db.sql`select 1 from audit_log where actor_user_id = ${learner.id} and client_ip is not null`).length).toBeGreaterThan(0);
    const blobsBefore = await blobHits(needles);
    for (const name of [upload.blobName, draft.blobName, staged, orphanPdf]) expect(blobsBefore.some((h) => h.includes(name)), name).toBe(true);
    expect(await cosmosHits(needles)).not.toEqual([]);

    // The learner asks; the wrong confirmations change nothing.
    expect((await jsonOf(await call(app, "POST", `/v1/users/${learner.id}/erase`, { token: learner.accessToken, body: {} }))).code).toBe("ERASURE_CONFIRMATION_REQUIRED");
    expect((await jsonOf(await call(app, "POST", `/v1/users/${learner.id}/erase`, { token: learner.accessToken, body: { currentPassword: "wrong" } }))).code).toBe("CURRENT_PASSWORD_INCORRECT");
    const immediately = await call(app, "POST", `/v1/users/${learner.id}/erase`, { token: learner.accessToken, body: { currentPassword: learner.password, immediate: true } });
    expect(immediately.status).toBe(403);
    expect((await jsonOf(immediately)).code).toBe("IMMEDIATE_ERASURE_ADMIN_ONLY");
    expect(await db.sql`select 1 from erasure_requests where user_id = ${learner.id}`).toHaveLength(0);

    const asked = await call(app, "POST", `/v1/users/${learner.id}/erase`, { token: learner.accessToken, body: { currentPassword: learner.password } });
    expect(asked.status).toBe(202);
    const scheduled = (await jsonOf(asked)) as { id: string; status: string; dueAt: string };
    expect(scheduled.status).toBe("scheduled");
    expect(Date.parse(scheduled.dueAt) - Date.now()).toBeGreaterThan(3_000);
    // Signed out and disabled at once; the schedule cannot be asked for twice.
    expect((await login(app, learner.email, learner.password)).status).toBe(403);
    expect((await call(app, "POST", "/v1/auth/refresh", { body: { refreshToken: learner.refreshToken } })).status).toBe(401);
    const twice = await call(app, "POST", `/v1/users/${learner.id}/erase`, { token: admin.accessToken, body: {} });
    expect(twice.status).toBe(409);
    expect(await jsonOf(twice)).toMatchObject({ code: "ERASURE_ALREADY_SCHEDULED", dueAt: scheduled.dueAt });
    const notice = await erasureNotice(learner.email);
    expect(notice.text).toContain("/account/erasure/cancel?token=");

    await until("the erasure to complete after the grace period", async () => ((await eraseStatus(learner.id)).status === "completed" ? true : undefined));
    // The grace period's durable timer did it (housekeeping does not run in this app until fired).
    const instance = await until("the erasure orchestration to complete", async () => {
      const s = await erasureInstance(scheduled.id);
      return s.runtimeStatus === "Completed" ? s : undefined;
    });
    expect(instance.output).toEqual({ erased: true });
    // Scheduled by the user themself: the email says so (an admin's schedule has its own wording, below).
    expect(notice.text).toContain("as asked");
    // The activity subscription forgets the learner's timeline on user.erased.
    await until("Cosmos to forget the learner", async () => ((await cosmosHits(needles)).length === 0 ? true : undefined));

    expect(await databaseHits(needles)).toEqual([]);
    expect(await blobHits(needles)).toEqual([]);
    expect(await cosmosHits(needles)).toEqual([]);
    // Their own audit entries keep no address they acted from.
    expect(await db.sql`select 1 from audit_log where actor_user_id = ${learner.id} and client_ip is not null`).toEqual([]);
    expect(await db.sql`select 1 from audit_log where id in ${db.sql(actorless.map((a) => a.id))} and client_ip is not null`).toEqual([]);
    const service = BlobServiceClient.fromConnectionString(inject("storageConnectionString"));
    expect(await service.getContainerClient(containers.certificates).getBlobClient(certificate.blob_name).exists()).toBe(false);
    expect(await certificatesContainer.getBlobClient(orphanPdf).exists()).toBe(false);
    expect(await service.getContainerClient(containers.submissions).getBlobClient(upload.blobName).exists()).toBe(false);
    expect(await service.getContainerClient(containers.submissions).getBlobClient(draft.blobName).exists()).toBe(false);
    expect(await exportBlobs()).toEqual([]);

    // The record keeps its integrity under the pseudonym.
    const [user] = await db.sql<{ email: string; display_name: string; erased_at: Date | null; password_hash: string | null }[]>`select email, display_name, erased_at, password_hash from users where id = ${learner.id}`;
    expect(user).toMatchObject({ email: expect.stringMatching(/^erased-[0-9a-f]{12}@users\.invalid$/), display_name: expect.stringMatching(/^Erased user [0-9a-f]{12}$/), password_hash: null });
    expect(user?.erased_at).not.toBeNull();
    expect(await db.sql`select percent from grades where id = ${grade.id}`).toEqual([{ percent: 85 }]);
    expect(await jsonOf(await call(app, "GET", `/v1/certificates/verify/${certificate.code}`))).toMatchObject({ valid: true, learnerName: user?.display_name });
    const analyticsAfter = (await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/analytics`, { token: admin.accessToken }))) as typeof analyticsBefore;
    expect(analyticsAfter.summary).toMatchObject({ enrolled: analyticsBefore.summary.enrolled, completed: 1 });
    expect(analyticsAfter.grades.overall).toEqual(analyticsBefore.grades.overall);
    const book = JSON.stringify(await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/gradebook`, { token: admin.accessToken })));
    expect(book).toContain(learner.id);
    const audit = await db.sql<{ action: string; details: Record<string, unknown> }[]>`select action, details from audit_log where target_id = ${learner.id} and action like 'privacy.%' order by occurred_at`;
    expect(audit.map((a) => a.action)).toEqual(["privacy.export-requested", "privacy.export-ready", "privacy.erasure-scheduled", "privacy.user-erased"]);
    expect(audit[3]?.details).toEqual({ pseudonym: user?.display_name });
    const [event] = await db.sql<{ data: unknown }[]>`select data from outbox where type = 'user.erased' and aggregate_id = ${learner.id}`;
    expect(event?.data).toEqual({ userId: learner.id, pseudonym: user?.display_name });

    const again = await call(app, "POST", `/v1/users/${learner.id}/erase`, { token: admin.accessToken, body: { immediate: true } });
    expect(again.status).toBe(409);
    expect((await jsonOf(again)).code).toBe("USER_ALREADY_ERASED");

    // An event about the learner published after their timeline was forgotten (in flight at the erasure) adds nothing back.
    const lateEvent = randomUUID();
    const late = { gradeId: randomUUID(), submissionId: attempt.id, assessmentId, courseId, userId: learner.id, version: 2, percent: 85 };
    await db.sql`insert into outbox (id, type, aggregate_type, aggregate_id, course_id, occurred_at, actor, data)
      values (${lateEvent}, 'grade.published', 'grade', ${late.gradeId}, ${courseId}, now(), null, ${JSON.stringify(late)}::jsonb)`;
    await until("the activity subscription to handle the late event", async () => (await db.sql`select 1 from inbox where subscription = 'activity' and message_id = ${lateEvent}`)[0]);
    const timeline = new CosmosClient({ connectionString: cosmos.connectionString, agent: new Agent({ rejectUnauthorized: false }) });
    const { resources: databasesAfter } = await timeline.databases.readAll().fetchAll();
    for (const d of databasesAfter) {
      const { resources: items } = await timeline.database(d.id).container("activity").items.query({ query: "select c.id from c where c.learnerId = @id", parameters: [{ name: "@id", value: learner.id }] }).fetchAll().catch(() => ({ resources: [] }));
      expect(items).toEqual([]);
    }
    timeline.dispose();
  }, 180_000);

  it.concurrent("cancels a scheduled erasure through the emailed link: nothing is erased and the account works again", async () => {
    const learner = await distinctLearner();
    const other = await distinctLearner();
    expect((await call(app, "POST", `/v1/users/${other.id}/erase`, { token: learner.accessToken, body: { currentPassword: learner.password } })).status).toBe(403);
    expect((await call(app, "GET", `/v1/users/${other.id}/erase`, { token: learner.accessToken })).status).toBe(403);
    expect((await jsonOf(await call(app, "GET", `/v1/users/${learner.id}/erase`, { token: learner.accessToken }))).code).toBe("ERASURE_NOT_FOUND");
    expect((await jsonOf(await call(app, "DELETE", `/v1/users/${learner.id}/erase`, { token: learner.accessToken }))).code).toBe("ERASURE_NOT_SCHEDULED");

    const asked = await call(app, "POST", `/v1/users/${learner.id}/erase`, { token: learner.accessToken, body: { currentPassword: learner.password } });
    expect(asked.status).toBe(202);
    const { dueAt } = (await asked.json()) as { dueAt: string };
    expect((await login(app, learner.email, learner.password)).status).toBe(403);
    const notice = await erasureNotice(learner.email);
    const token = decodeURIComponent(/token=([\w%-]+)/.exec(notice.text)?.[1] ?? "");
    expect((await jsonOf(await call(app, "POST", "/v1/erasure/cancel", { body: { token: `${token}x` } }))).code).toBe("TOKEN_INVALID");

    const cancelled = await call(app, "POST", "/v1/erasure/cancel", { body: { token } });
    expect(cancelled.status).toBe(200);
    expect(await jsonOf(cancelled)).toMatchObject({ status: "cancelled", userId: learner.id });
    expect((await jsonOf(await call(app, "POST", "/v1/erasure/cancel", { body: { token } }))).code).toBe("TOKEN_INVALID");
    const signedIn = await login(app, learner.email, learner.password);
    expect(signedIn.status).toBe(200);
    const { accessToken } = (await signedIn.json()) as { accessToken: string };
    expect(await jsonOf(await call(app, "GET", `/v1/users/${learner.id}/erase`, { token: accessToken }))).toMatchObject({ status: "cancelled", dueAt });

    // Past the due time the timer has nothing to do.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(dueAt) - Date.now()) + 2_000));
    const [user] = await db.sql<{ email: string; erased_at: Date | null; disabled_at: Date | null }[]>`select email, erased_at, disabled_at from users where id = ${learner.id}`;
    expect(user).toEqual({ email: learner.email, erased_at: null, disabled_at: null });
    expect((await call(app, "GET", "/v1/me", { token: accessToken })).status).toBe(200);
    expect(await db.sql`select action from audit_log where target_id = ${learner.id} and action like 'privacy.%' order by occurred_at`).toEqual([
      { action: "privacy.erasure-scheduled" },
      { action: "privacy.erasure-cancelled" },
    ]);
  }, 60_000);

  it.concurrent("lets an admin erase at once, or schedule and cancel; refuses admins and unknown users", async () => {
    const otherAdmin = await signUp(app, db, { admin: true, label: "other-admin" });
    const refused = await call(app, "POST", `/v1/users/${otherAdmin.id}/erase`, { token: admin.accessToken, body: { immediate: true } });
    expect(refused.status).toBe(409);
    expect((await jsonOf(refused)).code).toBe("CANNOT_ERASE_ADMIN");
    expect((await jsonOf(await call(app, "POST", `/v1/users/${randomUUID()}/erase`, { token: admin.accessToken, body: { immediate: true } }))).code).toBe("USER_NOT_FOUND");
    expect(await db.sql`select email from users where id = ${otherAdmin.id}`).toEqual([{ email: otherAdmin.email }]);

    const now = await distinctLearner();
    // Its events handled first: an event still in flight when the user is erased is a gap the report names.
    await until("the welcome email and webhook of the new learner", async () =>
      (await db.sql`select 1 from email_deliveries where recipient = ${now.email} and status = 'sent'`)[0] && received.some((b) => b.includes(now.email)) ? true : undefined,
    );
    const erased = await call(app, "POST", `/v1/users/${now.id}/erase`, { token: admin.accessToken, body: { immediate: true } });
    expect(erased.status).toBe(200);
    expect(await jsonOf(erased)).toMatchObject({ status: "completed", completedAt: expect.any(String) });
    expect(await databaseHits([now.email, now.displayName])).toEqual([]);
    // Signing in with the old address afterwards is a new failed sign-in, recorded like any other.
    expect((await login(app, now.email, now.password)).status).toBe(401);

    // Two requests racing: the user row lock and the one-scheduled-per-user index let one through.
    const later = await distinctLearner();
    const raced = await Promise.all([0, 1, 2].map(() => call(app, "POST", `/v1/users/${later.id}/erase`, { token: admin.accessToken, body: {} })));
    expect(raced.map((r) => r.status).sort()).toEqual([202, 409, 409]);
    expect(await db.sql`select status from erasure_requests where user_id = ${later.id}`).toEqual([{ status: "scheduled" }]);
    const cancelled = await call(app, "DELETE", `/v1/users/${later.id}/erase`, { token: admin.accessToken });
    expect(cancelled.status).toBe(200);
    expect((await login(app, later.email, later.password)).status).toBe(200);
    expect((await eraseStatus(later.id)).status).toBe("cancelled");
  }, 60_000);

  it.concurrent("replaces the erased user's name only in what is theirs: a namesake's records and an email to someone else keep it", async () => {
    const erased = await distinctLearner();
    const namesake = await distinctLearner({ displayName: erased.displayName });
    const name = erased.displayName;
    await until("both welcome emails sent", async () =>
      (await db.sql`select 1 from email_deliveries where recipient in ${db.sql([erased.email, namesake.email])} and template = 'welcome' and status = 'sent'`).length === 2 ? true : undefined,
    );
    await db.sql`insert into audit_log (id, action, actor_user_id, target_type, target_id, details) values (gen_random_uuid(), 'users.profile-updated', ${namesake.id}, 'user', ${namesake.id}, ${JSON.stringify({ displayName: name })}::jsonb)`;
    const [third] = await db.sql<{ id: string }[]>`
      insert into email_deliveries (id, event_id, recipient, template, locale, subject, text, html, status, next_attempt_at)
      values (gen_random_uuid(), gen_random_uuid(), 'third-party@example.test', 'welcome', 'en', 'A note', ${`A note about ${name}`}, ${`<p>A note about ${name}</p>`}, 'pending', now() + interval '1 day') returning id`;

    expect((await call(app, "POST", `/v1/users/${erased.id}/erase`, { token: admin.accessToken, body: { immediate: true } })).status).toBe(200);
    expect(await databaseHits([erased.email])).toEqual([]);
    // The namesake's own rows still carry the name they share.
    const hits = await databaseHits([name]);
    for (const expected of ["users.display_name", "audit_log.details", "outbox.data", "email_deliveries.text"]) expect(hits.some((h) => h.startsWith(`${expected}:`)), `${expected} (hits: ${hits.join(", ")})`).toBe(true);
    expect(await db.sql`select display_name from users where id = ${namesake.id}`).toEqual([{ display_name: name }]);
    expect(await db.sql`select 1 from audit_log where target_id = ${namesake.id} and details->>'displayName' = ${name}`).toHaveLength(1);
    expect(await db.sql`select 1 from outbox where aggregate_id = ${namesake.id} and type = 'user.registered' and data->>'displayName' = ${name}`).toHaveLength(1);
    // The email to someone else merely mentioning the name keeps its body and goes out as planned.
    expect(await db.sql`select status, text, html from email_deliveries where id = ${third?.id as string}`).toEqual([{ status: "pending", text: `A note about ${name}`, html: `<p>A note about ${name}</p>` }]);
  }, 60_000);

  it("carries out a scheduled erasure past its due time whose timer was never started (housekeeping), and tells an admin's schedule apart", async () => {
    const learner = await distinctLearner();
    const scheduled = await call(app, "POST", `/v1/users/${learner.id}/erase`, { token: admin.accessToken, body: {} });
    expect(scheduled.status).toBe(202);
    const notice = await erasureNotice(learner.email);
    expect(notice.text).toContain("an administrator has scheduled");
    expect(notice.text).not.toContain("as asked");
    const cancelled = await call(app, "DELETE", `/v1/users/${learner.id}/erase`, { token: admin.accessToken });
    expect(cancelled.status).toBe(200);

    // A request whose timer was lost (the host stopped between the commit and the start): no orchestration holds it.
    const [lost] = await db.sql<{ id: string }[]>`
      insert into erasure_requests (id, user_id, status, requested_by_user_id, due_at, disabled_account, created_at, updated_at)
      values (gen_random_uuid(), ${learner.id}, 'scheduled', ${learner.id}, now() - interval '1 minute', false, now(), now()) returning id`;
    // An erasure claimed (its request completed) but cut off before the user was erased: housekeeping finishes it too.
    const cutOff = await distinctLearner();
    await db.sql`insert into erasure_requests (id, user_id, status, requested_by_user_id, due_at, completed_at, created_at, updated_at)
      values (gen_random_uuid(), ${cutOff.id}, 'completed', ${admin.id}, now(), now(), now(), now())`;
    await runHousekeeping();
    await until("housekeeping to carry out the overdue erasure", async () => ((await eraseStatus(learner.id)).status === "completed" ? true : undefined));
    expect(await db.sql`select status from erasure_requests where id = ${lost?.id as string}`).toEqual([{ status: "completed" }]);
    await until("housekeeping to finish the cut-off erasure", async () => (await db.sql`select 1 from users where id = ${cutOff.id} and erased_at is not null`)[0]);
    expect(await databaseHits([learner.email, learner.displayName, cutOff.email, cutOff.displayName])).toEqual([]);
  }, 60_000);
});
