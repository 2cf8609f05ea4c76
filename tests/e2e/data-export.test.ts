import { BlobServiceClient } from "@azure/storage-blob";
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { exportSteps } from "../../domain/privacy/data-exports.js";
import { jsonOf, type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { waitForMail } from "../support/mailbox.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// One step per part of the export, then the archive and the email (each helper of issue 17 added a part).
const STEPS = exportSteps.length;

// A learner asks for their data: the orchestration gathers each part, zips it to Blob Storage and emails a link.

let db: TestDatabase;
let app: RunningApp;

beforeAll(async () => ({ db, app } = await startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", HOUSEKEEPING_SCHEDULE: "*/1 * * * * *" })));
afterAll(() => stopAppAndDatabase({ db, app }));

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 40_000) => waitFor(what, probe, { timeoutMs, diagnostics: () => recentErrors(app) });

/** A learner's work in the course: an attempt with an uploaded answer file, scored by hand, and a statement. */
async function learnerWork(admin: TestUser, learner: TestUser, courseId: string, assessmentId: string, fileText: string) {
  expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken })).status).toBe(201);
  const attempt = (await (await call(app, "POST", `/v1/assessments/${assessmentId}/attempts`, { token: learner.accessToken })).json()) as { id: string };
  const bytes = Buffer.from(fileText);
  const grant = (await (
    await call(app, "POST", `/v1/attempts/${attempt.id}/files`, { token: learner.accessToken, body: { itemId: "f", fileName: "report.txt", contentType: "text/plain", sizeBytes: bytes.length } })
  ).json()) as { blobName: string; url: string; headers: Record<string, string> };
  expect((await fetch(grant.url, { method: "PUT", headers: grant.headers, body: bytes })).status).toBe(201);
  // A draft uploaded and then replaced by the report before the answers were saved: it stays in Blob Storage.
  const draftBytes = Buffer.from(`draft of ${fileText}`);
  const draft = (await (
    await call(app, "POST", `/v1/attempts/${attempt.id}/files`, { token: learner.accessToken, body: { itemId: "f", fileName: "draft.txt", contentType: "text/plain", sizeBytes: draftBytes.length } })
  ).json()) as { blobName: string; url: string; headers: Record<string, string> };
  expect((await fetch(draft.url, { method: "PUT", headers: draft.headers, body: draftBytes })).status).toBe(201);
  expect((await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { q: true, f: grant.blobName } } })).status).toBe(200);
  expect((await call(app, "POST", `/v1/attempts/${attempt.id}/submit`, { token: learner.accessToken })).status).toBe(200);
  await until("the grading orchestration waiting for a grader", async () => {
    const s = await jsonOf(await call(app, "GET", `/v1/submissions/${attempt.id}/grading`, { token: admin.accessToken }));
    return (s.customStatus as { phase?: string } | null)?.phase === "waiting-for-grader" ? true : undefined;
  });
  expect((await call(app, "POST", `/v1/submissions/${attempt.id}/grades`, { token: admin.accessToken, body: { scores: [{ itemId: "f", points: 1, feedback: `Feedback for ${fileText}` }] } })).status).toBe(200);
  const statement = { id: `viewed-${attempt.id}`, verb: "viewed", object: { type: "course", id: courseId }, timestamp: new Date().toISOString() };
  expect((await call(app, "POST", "/v1/activity", { token: learner.accessToken, body: { statements: [statement] } })).status).toBe(202);
  return { attemptId: attempt.id, statementId: statement.id, bytes, draftBytes };
}

it("gathers a learner's data into a zip, emails a link to it, and shows its progress; only to its owner", async () => {
  const admin = await signUp(app, db, { admin: true, label: "admin" });
  const learner = await signUp(app, db, { label: "learner" });
  const other = await signUp(app, db, { label: "other" });
  const { id: courseId } = (await (await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Privacy 101", passPercent: 50 } })).json()) as { id: string };
  await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: admin.accessToken });
  const created = await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
    token: admin.accessToken,
    body: {
      title: "Lab",
      kind: "assignment",
      requiredForCompletion: true,
      items: [
        { id: "q", type: "true-false", points: 1 },
        { id: "f", type: "file", points: 1 },
      ],
      keys: { q: { type: "true-false", correct: true } },
    },
  });
  const { id: assessmentId } = (await created.json()) as { id: string };
  const mine = await learnerWork(admin, learner, courseId, assessmentId, "learner's own lab report");
  const theirs = await learnerWork(admin, other, courseId, assessmentId, "the other learner's report");
  const cert = await until("the learner's certificate", async () => (await db.sql<{ code: string }[]>`select code from certificates where user_id = ${learner.id}`)[0]);
  const otherCert = await until("the other learner's certificate", async () => (await db.sql<{ code: string }[]>`select code from certificates where user_id = ${other.id}`)[0]);
  await until("the learner's grade", async () => (await db.sql`select 1 from grades where submission_id = ${mine.attemptId}`)[0]);

  // An entry an admin made about the learner, from the admin's own address.
  await db.sql`insert into audit_log (id, action, actor_user_id, target_type, target_id, client_ip) values (gen_random_uuid(), 'users.updated', ${admin.id}, 'user', ${learner.id}, '203.0.113.77')`;
  expect((await call(app, "POST", "/v1/me/data-export")).status).toBe(401);
  // Two requests at once: one export starts, the other is told which one is under way.
  const [a, b] = await Promise.all([call(app, "POST", "/v1/me/data-export", { token: learner.accessToken }), call(app, "POST", "/v1/me/data-export", { token: learner.accessToken })]);
  const answers = [await jsonOf(a), await jsonOf(b)];
  expect([a.status, b.status].sort()).toEqual([202, 409]);
  const accepted = answers[a.status === 202 ? 0 : 1] as { id: string; status: string; statusUrl: string };
  const refused = answers[a.status === 202 ? 1 : 0] as { code: string; exportId: string };
  expect(accepted).toMatchObject({ status: "pending", statusUrl: `/api/v1/me/data-export/${accepted.id}` });
  expect(refused).toMatchObject({ code: "EXPORT_IN_PROGRESS", exportId: accepted.id });
  expect(await db.sql`select 1 from data_exports where user_id = ${learner.id}`).toHaveLength(1);

  // Someone else's export does not exist for them; an admin may read it.
  expect((await jsonOf(await call(app, "GET", `/v1/me/data-export/${accepted.id}`, { token: other.accessToken }))).code).toBe("DATA_EXPORT_NOT_FOUND");
  expect((await call(app, "GET", `/v1/me/data-export/${accepted.id}`, { token: admin.accessToken })).status).toBe(200);
  expect((await call(app, "GET", `/v1/me/data-export/${accepted.id}`)).status).toBe(401);

  const ready = await until(
    "the export ready",
    async () => {
      const s = (await jsonOf(await call(app, "GET", `/v1/me/data-export/${accepted.id}`, { token: learner.accessToken }))) as {
        status: string;
        progress: { stepsDone: number; stepsTotal: number; percent: number; step: string };
        downloadUrl?: string;
        expiresAt: string | null;
      };
      expect(s.status).not.toBe("failed");
      expect(s.progress.stepsTotal).toBe(STEPS);
      return s.status === "ready" ? s : undefined;
    },
    60_000,
  );
  expect(ready.progress).toEqual({ step: "done", stepsDone: STEPS, stepsTotal: STEPS, percent: 100 });
  expect(ready.downloadUrl).toMatch(/^http/);
  // An admin sees the status of someone's export, never a link to their data.
  const seenByAdmin = await jsonOf(await call(app, "GET", `/v1/me/data-export/${accepted.id}`, { token: admin.accessToken }));
  expect(seenByAdmin).toMatchObject({ id: accepted.id, status: "ready" });
  expect(seenByAdmin).not.toHaveProperty("downloadUrl");
  expect(new Date(ready.expiresAt as string).getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);

  const mail = await waitForMail(app, learner.email, "Your Ringlet data export is ready", { timeoutMs: 40_000 });
  expect(mail.subject).toBe("Your Ringlet data export is ready");
  const link = /Download your data: (\S+)/.exec(mail.text)?.[1] as string;
  expect(link).toMatch(/privacy-exports/);
  const download = await fetch(link);
  expect(download.status).toBe(200);
  const zip = unzipSync(new Uint8Array(await download.arrayBuffer()));
  const json = (name: string) => JSON.parse(strFromU8(zip[name] as Uint8Array)) as Record<string, unknown>[];

  expect(Object.keys(zip)).toEqual(
    expect.arrayContaining(["README.txt", "manifest.json", "profile.json", "enrollments.json", "submissions.json", "grades.json", "progress.json", "activity.json", "certificates.json", "audit.json", "emails.json", "notification-preferences.json", "leave-applications.json"]),
  );
  const profile = json("profile.json")[0] as { account: { id: string; email: string }; twoFactor: unknown; sessions: unknown[] };
  expect(profile.account).toMatchObject({ id: learner.id, email: learner.email });
  expect(profile).toMatchObject({ twoFactor: { enabled: false, recoveryCodesLeft: 0 } });
  expect(profile.sessions.length).toBeGreaterThan(0);
  expect(json("enrollments.json")).toEqual([expect.objectContaining({ courseId, status: "active", courseTitle: "Privacy 101" })]);
  const [submission] = json("submissions.json") as { id: string; answers: Record<string, unknown>; files: { archivePath: string }[]; feedback: { feedback: string }[] }[];
  expect(submission).toMatchObject({ id: mine.attemptId, answers: { q: true }, feedback: [expect.objectContaining({ feedback: "Feedback for learner's own lab report" })] });
  const answerFile = submission?.files[0]?.archivePath as string;
  expect(Buffer.from(zip[answerFile] as Uint8Array)).toEqual(mine.bytes);
  expect(json("grades.json")).toEqual([expect.objectContaining({ submissionId: mine.attemptId, percent: 100, explanation: expect.any(Array) })]);
  expect(json("progress.json")).toEqual([expect.objectContaining({ courseId, percent: 100 })]);
  // The learner's own statement beside those the server recorded for them (enrolled, submitted, ...).
  const statements = json("activity.json") as { id: string; learnerId: string }[];
  expect(statements).toEqual(expect.arrayContaining([expect.objectContaining({ id: mine.statementId, learnerId: learner.id })]));
  expect(statements.every((st) => st.learnerId === learner.id)).toBe(true);
  expect(json("certificates.json")).toEqual([expect.objectContaining({ code: cert.code })]);
  expect(strFromU8((zip[`files/certificates/${cert.code}.pdf`] as Uint8Array).subarray(0, 5))).toBe("%PDF-");
  const audit = json("audit.json") as { action: string; byYou: boolean; clientIp: string | null }[];
  expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(["user.registered", "auth.login-succeeded", "privacy.export-requested"]));
  // The admin's own address is not the learner's to see; the learner's own addresses are.
  expect(audit.find((e) => e.action === "users.updated")).toMatchObject({ byYou: false, clientIp: null });
  expect(audit.some((e) => e.byYou && e.clientIp !== null)).toBe(true);
  expect((json("emails.json") as { template: string }[]).map((e) => e.template)).toEqual(expect.arrayContaining(["welcome", "enrolled"]));
  expect(json("notification-preferences.json")).toEqual([expect.objectContaining({ grades: true })]);
  const manifest = JSON.parse(strFromU8(zip["manifest.json"] as Uint8Array)) as { files: { path: string }[]; missingFiles: string[]; parts: { file: string; records: number }[] };
  // The replaced draft too: everything held under the attempt is the learner's.
  const draftFile = manifest.files.map((f) => f.path).find((path) => path.startsWith(`files/submissions/${mine.attemptId}/`) && path !== answerFile) as string;
  expect(manifest.files.map((f) => f.path).sort()).toEqual([answerFile, draftFile, `files/certificates/${cert.code}.pdf`].sort());
  expect(Buffer.from(zip[draftFile] as Uint8Array)).toEqual(mine.draftBytes);
  expect(manifest.missingFiles).toEqual([]);
  expect(manifest.parts.find((p) => p.file === "grades.json")?.records).toBe(1);

  // Nothing about the other learner, and no secret of anyone's.
  const everything = Object.values(zip).map((bytes) => Buffer.from(bytes).toString("latin1")).join("\n");
  for (const foreign of [other.id, other.email, theirs.attemptId, theirs.statementId, otherCert.code, "the other learner's report"]) expect(everything).not.toContain(foreign);
  const passwordHash = (await db.sql<{ password_hash: string }[]>`select password_hash from users where id = ${learner.id}`)[0]?.password_hash as string;
  const tokenHashes = (await db.sql<{ token_hash: string }[]>`select token_hash from refresh_tokens where user_id = ${learner.id}`).map((r) => r.token_hash);
  for (const secret of [passwordHash, ...tokenHashes]) expect(everything).not.toContain(secret);
  expect(everything).not.toMatch(/password_?hash|token_?hash/i);

  expect(await db.sql`select action from audit_log where target_id = ${learner.id} and action like 'privacy.%' order by occurred_at`).toEqual([{ action: "privacy.export-requested" }, { action: "privacy.export-ready" }]);
  const list = (await jsonOf(await call(app, "GET", "/v1/me/data-export", { token: learner.accessToken }))) as { items: { id: string; status: string }[] };
  expect(list.items).toEqual([expect.objectContaining({ id: accepted.id, status: "ready" })]);
  expect((await jsonOf(await call(app, "GET", "/v1/me/data-export", { token: other.accessToken }))).items).toEqual([]);
  // The staged parts go once the export is ready (right after the email is sent, so this waits for them); only
  // the archive stays. Looked at before another export starts staging its own.
  const exportsContainer = BlobServiceClient.fromConnectionString(inject("storageConnectionString")).getContainerClient(new URL(link).pathname.split("/")[2] as string);
  const blobsLeft = async () => {
    const names: string[] = [];
    for await (const blob of exportsContainer.listBlobsFlat({ prefix: `privacy-exports/${learner.id}/` })) names.push(blob.name);
    return names;
  };
  await until("the staged parts deleted", async () => ((await blobsLeft()).length === 1 ? true : undefined));
  expect(await blobsLeft()).toEqual([`privacy-exports/${learner.id}/${accepted.id}.zip`]);
  // Once ready, another export may be asked for.
  expect((await call(app, "POST", "/v1/me/data-export", { token: learner.accessToken })).status).toBe(202);

  // An export whose orchestration is gone (its start lost after the commit, or it ended without finishing: a
  // running row with no instance) fails when its owner asks again, and the new request is accepted.
  for (const status of ["pending", "running"]) {
    const [lost] = await db.sql<{ id: string }[]>`
      insert into data_exports (id, user_id, status, progress, requested_at, started_at)
      values (gen_random_uuid(), ${other.id}, ${status}, '{"step":"profile","stepsDone":0,"stepsTotal":12}', now() - interval '2 minutes', case when ${status} = 'running' then now() - interval '110 seconds' end) returning id`;
    // What it had written: a staged part and a partial archive, which hold the person's data.
    const written = [`privacy-exports/${other.id}/staging/${lost?.id}/profile.json`, `privacy-exports/${other.id}/${lost?.id}.zip`];
    for (const name of written) await exportsContainer.getBlockBlobClient(name).uploadData(Buffer.from("partial"));
    const again = await call(app, "POST", "/v1/me/data-export", { token: other.accessToken });
    expect(again.status).toBe(202);
    const fresh = (await jsonOf(again)) as { id: string };
    expect((await jsonOf(await call(app, "GET", `/v1/me/data-export/${lost?.id}`, { token: other.accessToken }))).status).toBe("failed");
    // ...deleted with the export that failed.
    for (const name of written) await until(`${name} deleted`, async () => ((await exportsContainer.getBlobClient(name).exists()) ? undefined : true));
    await until("the new export ready", async () => ((await jsonOf(await call(app, "GET", `/v1/me/data-export/${fresh.id}`, { token: other.accessToken }))).status === "ready" ? true : undefined));
  }

  // At the end of its retention housekeeping deletes the archive: the emailed link stops working.
  await db.sql`update data_exports set expires_at = now() - interval '1 second' where id = ${accepted.id}`;
  expect(await jsonOf(await call(app, "GET", `/v1/me/data-export/${accepted.id}`, { token: learner.accessToken }))).not.toHaveProperty("downloadUrl");
  await until("the archive expired", async () => ((await db.sql`select status from data_exports where id = ${accepted.id} and status = 'expired' and blob_name is null`)[0] ? true : undefined));
  expect((await fetch(link)).status).toBe(404);
  expect((await jsonOf(await call(app, "GET", `/v1/me/data-export/${accepted.id}`, { token: learner.accessToken }))).status).toBe("expired");
}, 120_000);
