import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { mailsTo, waitForMail } from "../support/mailbox.js";
import { answersOf, mixedQuizItems, mixedQuizKeys } from "../support/mixed-quiz.js";
import { nowSeconds, signHs256, TEST_ISSUER, TEST_AUDIENCE } from "../support/tokens.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// Notification choices end to end: preferences over HTTP, the grade emails they filter (read from the
// development mailbox), and RFC 8058 one-click unsubscribe through the link in a received email's header.

const API_URL = "https://api.ringlet.test/api";

let db: TestDatabase;
let app: RunningApp;
let instructor: TestUser;
let keen: TestUser;
let quiet: TestUser;
let courseId: string;

const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(what, probe, { timeoutMs: 30_000, diagnostics: () => recentErrors(app) });
/** The first mail to `user` whose subject starts so, once it has arrived. */
const mailTo = (user: TestUser, subjectStart: string) => waitForMail(app, user.email, subjectStart, { timeoutMs: 30_000 });
/** The mails to `user` whose subject starts so, now. */
const received = (user: TestUser, subjectStart: string) => mailsTo(app, user.email, subjectStart);
const form = (body: string, type = "application/x-www-form-urlencoded") => ({ method: "POST", headers: { "content-type": type }, body });
/** The emails subscription has handled every event of `type` about `aggregateId` (so its emails were decided). */
const handled = (type: string, aggregateId: string) =>
  until(`the emails subscription to handle ${type}`, async () => {
    const rows = await db.sql`
      select 1 from outbox o join inbox i on i.message_id = o.id::text and i.subscription = 'emails'
      where o.type = ${type} and o.aggregate_id = ${aggregateId}`;
    return rows.length > 0 ? true : undefined;
  });
// Until changed: push for every category, no SMS, no quiet hours, no digest.
const channelDefaults = { push: ["courseUpdates", "grades", "reminders", "announcements", "discussions"], sms: [], quietHours: null, discussionDigest: false };
const preferences = async (user: TestUser) => jsonOf(await call(app, "GET", "/v1/me/notification-preferences", { token: user.accessToken }));

async function quiz(title: string, releaseMode: "immediate" | "manual"): Promise<string> {
  const res = await call(app, "POST", `/v1/courses/${courseId}/assessments`, { token: instructor.accessToken, body: { title, kind: "quiz", items: mixedQuizItems, keys: mixedQuizKeys, releaseMode } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** Answers and submits, and waits for the grade; returns the attempt (the grade.published event's aggregate). */
async function submitGraded(user: TestUser, assessmentId: string): Promise<string> {
  const started = await call(app, "POST", `/v1/assessments/${assessmentId}/attempts`, { token: user.accessToken });
  expect(started.status).toBe(201);
  const { id } = (await started.json()) as { id: string };
  expect((await call(app, "PUT", `/v1/attempts/${id}/answers`, { token: user.accessToken, body: { answers: answersOf(5) } })).status).toBe(200);
  expect((await call(app, "POST", `/v1/attempts/${id}/submit`, { token: user.accessToken })).status).toBe(200);
  await until(`the grade of ${id}`, async () => ((await db.sql`select 1 from grades where submission_id = ${id}`).length > 0 ? true : undefined));
  return id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({
    env: {
      DATABASE_URL: db.url,
      OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *",
      PUBLIC_API_URL: API_URL,
      // Learners enroll without confirming their address first (email verification is tested on its own).
      AUTH_UNVERIFIED_ACCESS: "full",
    },
  });
  [instructor, keen, quiet] = await Promise.all([signUp(app, db, { admin: true, label: "instructor" }), signUp(app, db, { label: "keen" }), signUp(app, db, { label: "quiet" })]);
  const created = await call(app, "POST", "/v1/courses", { token: instructor.accessToken, body: { title: "Mechanics" } });
  courseId = ((await created.json()) as { id: string }).id;
  await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: instructor.accessToken });
  for (const u of [keen, quiet]) expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: u.accessToken })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

describe("notification preferences", () => {
  it("are all on until changed, and change with If-Match", async () => {
    const first = await call(app, "GET", "/v1/me/notification-preferences", { token: quiet.accessToken });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ courseUpdates: true, grades: true, reminders: true, announcements: true, discussions: true, ...channelDefaults });
    const etag = first.headers.get("etag") as string;
    expect((await call(app, "GET", "/v1/me/notification-preferences", { token: quiet.accessToken, headers: { "if-none-match": etag } })).status).toBe(304);

    const stale = await call(app, "PUT", "/v1/me/notification-preferences", { token: quiet.accessToken, headers: { "if-match": '"stale"' }, body: { courseUpdates: true, grades: false, reminders: true, announcements: true, discussions: true } });
    expect(stale.status).toBe(412);
    expect(await preferences(quiet)).toEqual({ courseUpdates: true, grades: true, reminders: true, announcements: true, discussions: true, ...channelDefaults });

    const partial = await call(app, "PUT", "/v1/me/notification-preferences", { token: quiet.accessToken, body: { grades: false } });
    expect(partial.status).toBe(400);
    expect((await jsonOf(partial)).code).toBe("VALIDATION_FAILED");

    const saved = await call(app, "PUT", "/v1/me/notification-preferences", { token: quiet.accessToken, headers: { "if-match": etag }, body: { courseUpdates: true, grades: false, reminders: true, announcements: true, discussions: true } });
    expect(saved.status).toBe(200);
    expect(saved.headers.get("etag")).not.toBe(etag);
    expect(await preferences(quiet)).toEqual({ courseUpdates: true, grades: false, reminders: true, announcements: true, discussions: true, ...channelDefaults });
    expect(await db.sql`select 1 from audit_log where action = 'user.notification-preferences-changed' and target_id = ${quiet.id}`).toHaveLength(1);
    expect((await call(app, "GET", "/v1/me/notification-preferences")).status).toBe(401);
  });

  it("choose push and SMS categories, quiet hours and the digest; an update naming only the email flags keeps them", async () => {
    const chooser = await signUp(app, db, { label: "chooser" });
    const channels = { push: ["announcements", "grades"], sms: ["reminders"], quietHours: { start: "22:30", end: "07:00", timeZone: "Europe/Madrid" }, discussionDigest: true };
    const emails = { courseUpdates: true, grades: true, reminders: true, announcements: true, discussions: true };
    const before = await call(app, "GET", "/v1/me/notification-preferences", { token: chooser.accessToken });
    const saved = await call(app, "PUT", "/v1/me/notification-preferences", { token: chooser.accessToken, headers: { "if-match": before.headers.get("etag") as string }, body: { ...emails, ...channels } });
    expect(saved.status).toBe(200);
    // Stored in the catalogue's order.
    expect(await saved.json()).toEqual({ ...emails, ...channels, push: ["grades", "announcements"] });
    expect(saved.headers.get("etag")).not.toBe(before.headers.get("etag"));
    expect((await call(app, "PUT", "/v1/me/notification-preferences", { token: chooser.accessToken, body: emails })).status).toBe(200);
    expect(await preferences(chooser)).toMatchObject({ sms: ["reminders"], quietHours: channels.quietHours, discussionDigest: true });

    for (const bad of [
      { quietHours: { start: "22:30", end: "07:00", timeZone: "Mars/Olympus" } },
      { quietHours: { start: "24:00", end: "07:00", timeZone: "UTC" } },
      { quietHours: { start: "07:00", end: "07:00", timeZone: "UTC" } },
      { sms: ["telepathy"] },
    ]) {
      const res = await call(app, "PUT", "/v1/me/notification-preferences", { token: chooser.accessToken, body: { ...emails, ...bad } });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    const cleared = await call(app, "PUT", "/v1/me/notification-preferences", { token: chooser.accessToken, body: { ...emails, ...channelDefaults } });
    expect(await cleared.json()).toEqual({ ...emails, ...channelDefaults });
  });

  it("puts one-click unsubscribe headers on optional emails only", async () => {
    const enrolled = await mailTo(keen, "You are enrolled");
    expect(enrolled.headers["list-unsubscribe"]).toMatch(new RegExp(`^<${API_URL}/v1/unsubscribe\\?token=[\\w.-]+>$`));
    expect(enrolled.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
    expect(enrolled.text).toContain(`${API_URL}/v1/unsubscribe?token=`);
    const welcome = await mailTo(keen, "Welcome");
    expect(welcome.headers["list-unsubscribe"]).toBeUndefined();
    // Sent rows keep no link: it is a bearer token for the recipient's choices.
    expect(await db.sql`select 1 from email_deliveries where recipient = ${keen.email} and headers is not null and status = 'sent'`).toHaveLength(0);
  });
});

describe("grade emails", () => {
  let unsubscribeUrl: string;

  it("tells the learner of a grade on an assessment released at once, unless they turned grades off", async () => {
    const units = await quiz("Units", "immediate");
    const quietAttempt = await submitGraded(quiet, units);
    const keenAttempt = await submitGraded(keen, units);
    const mail = await mailTo(keen, "Your grade for Units");
    expect(mail.text).toContain("Mechanics");
    expect(mail.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
    unsubscribeUrl = /^<(.+)>$/.exec(mail.headers["list-unsubscribe"] ?? "")?.[1] as string;
    await handled("grade.published", keenAttempt);
    await handled("grade.published", quietAttempt);
    expect(await received(quiet, "Your grade")).toHaveLength(0);
    expect(await db.sql`select 1 from email_deliveries where recipient = ${quiet.email} and template = 'grade-published'`).toHaveLength(0);
  });

  it("holds the grade email of a manual-release assessment until the release, then tells each learner once", async () => {
    const held = await quiz("Held", "manual");
    const keenAttempt = await submitGraded(keen, held);
    await submitGraded(quiet, held);
    await handled("grade.published", keenAttempt);
    expect(await received(keen, "Your grade for Held")).toHaveLength(0);

    expect((await call(app, "POST", `/v1/assessments/${held}/release`, { token: instructor.accessToken })).status).toBe(200);
    const released = await mailTo(keen, "Results of Held");
    expect(released.headers["list-unsubscribe"]).toMatch(/^<https:\/\//);
    // A second release tells nobody again.
    expect((await call(app, "POST", `/v1/assessments/${held}/release`, { token: instructor.accessToken })).status).toBe(200);
    expect(await db.sql`select 1 from outbox where type = 'assessment.results-released' and aggregate_id = ${held}`).toHaveLength(1);
    await handled("assessment.results-released", held);
    expect(await received(quiet, "Results of Held")).toHaveLength(0);
    expect(await received(keen, "Your grade for Held")).toHaveLength(0);
  });

  it("announces held results once when the assessment is switched to immediate release, to learners still enrolled only", async () => {
    const leaver = await signUp(app, db, { label: "leaver" });
    expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: leaver.accessToken })).status).toBe(201);
    const switched = await quiz("Switched", "manual");
    const keenAttempt = await submitGraded(keen, switched);
    const leaverAttempt = await submitGraded(leaver, switched);
    await handled("grade.published", keenAttempt);
    await handled("grade.published", leaverAttempt);
    expect((await call(app, "DELETE", `/v1/courses/${courseId}/enrollments/${leaver.id}`, { token: leaver.accessToken })).status).toBe(204);

    const patch = (releaseMode: string) => call(app, "PATCH", `/v1/assessments/${switched}`, { token: instructor.accessToken, body: { releaseMode } });
    const patched = await patch("immediate");
    expect(patched.status).toBe(200);
    expect(await jsonOf(patched)).toMatchObject({ releaseMode: "immediate" });
    const released = await mailTo(keen, "Results of Switched");
    expect(released.text).toContain("Mechanics");
    // Released once: switching back and forth tells nobody again.
    expect((await patch("manual")).status).toBe(200);
    expect((await patch("immediate")).status).toBe(200);
    expect(await db.sql`select 1 from outbox where type = 'assessment.results-released' and aggregate_id = ${switched}`).toHaveLength(1);
    await handled("assessment.results-released", switched);
    // The learner who left the course keeps the grade but gets no email about it.
    expect(await db.sql`select 1 from grades where assessment_id = ${switched} and user_id = ${leaver.id}`).not.toHaveLength(0);
    expect(await db.sql`select 1 from email_deliveries where recipient = ${leaver.email} and template = 'results-released'`).toHaveLength(0);
    expect(await received(leaver, "Results of Switched")).toHaveLength(0);
    expect(await received(keen, "Results of Switched")).toHaveLength(1);
  });

  it("unsubscribes through the link from the email's header: a GET only asks, the one-click POST turns grades off", async () => {
    expect(unsubscribeUrl.startsWith(`${API_URL}/v1/unsubscribe?token=`)).toBe(true);
    // The same link on the app under test (the email names the public https address).
    const link = `${app.baseUrl}/api${unsubscribeUrl.slice(API_URL.length)}`;

    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain('name="List-Unsubscribe" value="One-Click"');
    expect((await preferences(keen)).grades).toBe(true);

    const noBody = await fetch(link, { method: "POST" });
    expect(noBody.status).toBe(400);
    expect((await preferences(keen)).grades).toBe(true);

    const done = await fetch(link, form("List-Unsubscribe=One-Click"));
    expect(done.status).toBe(200);
    expect(await preferences(keen)).toEqual({ courseUpdates: true, grades: false, reminders: true, announcements: true, discussions: true, ...channelDefaults });
    // Again, and as multipart (which RFC 8058 also allows): nothing more changes.
    const multipart = new FormData();
    multipart.set("List-Unsubscribe", "One-Click");
    expect((await fetch(link, { method: "POST", body: multipart })).status).toBe(200);
    expect((await preferences(keen)).grades).toBe(false);
    // One change, one audit entry: the repeat changed nothing, so it records nothing.
    expect(await db.sql`select details->>'via' as via from audit_log where action = 'user.notification-preferences-changed' and target_id = ${keen.id}`).toEqual([
      { via: "unsubscribe-link" },
    ]);
  });

  it("refuses forged, expired and misused tokens and changes nothing", async () => {
    const token = new URL(unsubscribeUrl).searchParams.get("token") as string;
    const [header, payload] = token.split(".") as [string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: quiet.id, cat: "reminders" })).toString("base64url");
    const expired = await signHs256({ ...claims, sub: quiet.id, exp: nowSeconds() - 3600 }, undefined, { typ: "ringlet-unsubscribe+jwt" });
    const accessLike = await signHs256({ sub: quiet.id, cat: "reminders", iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: nowSeconds(), exp: nowSeconds() + 600 });
    for (const bad of [`${header}.${forgedPayload}.${token.split(".")[2]}`, expired, accessLike, quiet.accessToken, "not-a-token"]) {
      for (const res of [await call(app, "GET", `/v1/unsubscribe?token=${bad}`), await fetch(`${app.baseUrl}/api/v1/unsubscribe?token=${bad}`, form("List-Unsubscribe=One-Click"))]) {
        expect(res.status).toBe(400);
        expect((await jsonOf(res)).code).toBe("UNSUBSCRIBE_LINK_INVALID");
      }
    }
    expect(await preferences(quiet)).toEqual({ courseUpdates: true, grades: false, reminders: true, announcements: true, discussions: true, ...channelDefaults });
    // Nor does the unsubscribe token pass as an access token.
    expect((await call(app, "GET", "/v1/me", { token })).status).toBe(401);
    expect((await fetch(`${app.baseUrl}/api/v1/unsubscribe?token=${token}`, form("List-Unsubscribe=Other"))).status).toBe(400);
    expect((await fetch(`${app.baseUrl}/api/v1/unsubscribe?token=${token}`, form('{"List-Unsubscribe":"One-Click"}', "application/json"))).status).toBe(415);
  });

  it("changes nothing for an erased user: an old link clicked after the erasure brings back no preferences and records nothing", async () => {
    const token = new URL(unsubscribeUrl).searchParams.get("token") as string;
    const claims = JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString()) as Record<string, unknown>;
    // A link still valid, to a user whose erasure ran (what it leaves: the row pseudonymised and marked, no preferences).
    const link = await signHs256({ ...claims, sub: quiet.id, cat: "reminders", iat: nowSeconds(), exp: nowSeconds() + 3600 }, undefined, { typ: "ringlet-unsubscribe+jwt" });
    await db.sql`update users set erased_at = now() where id = ${quiet.id}`;
    await db.sql`delete from notification_preferences where user_id = ${quiet.id}`;
    const audited = async () => (await db.sql`select 1 from audit_log where target_id = ${quiet.id}`).length;
    const before = await audited();
    expect((await fetch(`${app.baseUrl}/api/v1/unsubscribe?token=${link}`, form("List-Unsubscribe=One-Click"))).status).toBe(200);
    expect(await db.sql`select 1 from notification_preferences where user_id = ${quiet.id}`).toHaveLength(0);
    expect(await audited()).toBe(before);
  });
});
