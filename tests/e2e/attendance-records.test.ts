// Issue 17, items 3 and 5 over HTTP: the weekly low-attendance alert (emailed once even when the timer fires twice)
// and the learner's transcript in JSON and PDF. Sessions, marks and the attendance policy are written straight to the
// database (the schedule and attendance routes are other parts' work); everything else goes through the API.
import { inflateSync } from "node:zlib";
import { decodePDFRawStream, PDFDocument, PDFRawStream } from "pdf-lib";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isoWeekPeriod } from "../../domain/attendance/low-attendance.js";
import { jsonOf, type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { mailsTo, waitForMail } from "../support/mailbox.js";
import { waitFor } from "../support/wait-for.js";
import { fireFunction, succeededRuns } from "../support/timers.js";

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let instructor: TestUser;
let learner: TestUser;

beforeAll(async () => {
  ({ db, app } = await startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", LOCAL_DURABLE_DATA: "memory" }));
  admin = await signUp(app, db, { admin: true, label: "admin" });
  instructor = await signUp(app, db, { label: "instructor" });
  learner = await signUp(app, db, { label: "learner" });
  await db.sql`update users set display_name = 'Lena Learner' where id = ${learner.id}`;
});
afterAll(() => stopAppAndDatabase({ db, app }));

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000) => waitFor(what, probe, { timeoutMs });

async function course(title: string, code: string): Promise<string> {
  const res = await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title, code } });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  expect((await call(app, "POST", `/v1/courses/${id}/publish`, { token: admin.accessToken })).status).toBeLessThan(300);
  return id;
}

async function enroll(courseId: string, user: TestUser): Promise<void> {
  expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: user.accessToken })).status).toBeLessThan(300);
}

/** Past sessions of a course with the learner's marks, one session per status. */
async function attended(courseId: string, userId: string, statuses: string[]): Promise<void> {
  for (const [i, status] of statuses.entries()) {
    const sessionId = uuidv7();
    await db.sql`insert into class_sessions (id, course_id, title, starts_at, ends_at, time_zone)
      values (${sessionId}, ${courseId}, ${`Class ${i + 1}`}, now() - ${`${(i + 1) * 24} hours`}::interval, now() - ${`${(i + 1) * 24 - 1} hours`}::interval, 'UTC')`;
    await db.sql`insert into attendance_marks (session_id, user_id, course_id, status, source) values (${sessionId}, ${userId}, ${courseId}, ${status}, 'staff')`;
  }
}

async function fireAlertsTimer(): Promise<void> {
  const res = await fireFunction(app, "attendance-alerts");
  expect(res.status).toBe(202);
}

/** Finished runs of the timer, as the runtime logs them. */
const alertRuns = () => succeededRuns(app, "attendance-alerts");

/** The text a pdf-lib document draws (hex strings of its Tj operators), page by page. */
async function pdfText(bytes: Uint8Array): Promise<string> {
  const pdf = await PDFDocument.load(bytes);
  const parts: string[] = [];
  for (const [, object] of pdf.context.enumerateIndirectObjects()) {
    if (!(object instanceof PDFRawStream)) continue;
    let content: string;
    try {
      content = Buffer.from(decodePDFRawStream(object).decode()).toString("latin1");
    } catch {
      content = Buffer.from(inflateSync(object.contents)).toString("latin1");
    }
    for (const m of content.matchAll(/<([0-9A-Fa-f]*)>\s*Tj/g)) parts.push(Buffer.from(m[1] as string, "hex").toString("latin1"));
  }
  return parts.join("\n");
}

let history: string;
let geography: string;
let chemistry: string;

describe("low-attendance alerts", () => {
  it("emails the learner below the threshold and the course's instructors once a week, even when the timer fires twice", async () => {
    history = await course("Medieval History", "HIS-101");
    await db.sql`insert into course_staff (course_id, user_id, role) values (${history}, ${instructor.id}, 'instructor')`;
    // An instructor scoped to another section hears nothing of this learner (in no section).
    const elsewhere = await signUp(app, db, { label: "elsewhere" });
    const sectionB = uuidv7();
    await db.sql`insert into sections (id, course_id, name) values (${sectionB}, ${history}, 'B')`;
    await db.sql`insert into course_staff (course_id, user_id, role) values (${history}, ${elsewhere.id}, 'instructor')`;
    await db.sql`insert into course_staff_sections (course_id, user_id, section_id) values (${history}, ${elsewhere.id}, ${sectionB})`;
    await enroll(history, learner);
    const fine = await signUp(app, db, { label: "fine" });
    await enroll(history, fine);
    await db.sql`insert into attendance_policies (course_id, low_threshold_percent) values (${history}, 75)`;
    await attended(history, learner.id, ["present", "absent", "absent", "late"]); // 50 %
    await attended(history, fine.id, ["present", "present", "late", "excused"]); // 100 %

    const before = alertRuns();
    await fireAlertsTimer();
    const mail = await waitForMail(app, learner.email, "Your attendance in Medieval History", { timeoutMs: 25_000 });
    expect(mail.subject).toBe("Your attendance in Medieval History is 50%");
    expect(mail.text).toContain("below the 75%");
    const staffMail = await waitForMail(app, instructor.email, "Lena Learner's attendance in Medieval History");
    expect(staffMail.text).toContain(isoWeekPeriod(new Date()));

    // The second firing finds the week's alert already recorded: no second event, no second email.
    await until("the first run's log", async () => (alertRuns() > before ? true : undefined));
    const afterFirst = alertRuns();
    await fireAlertsTimer();
    await until("the second run's log", async () => (alertRuns() > afterFirst ? true : undefined));
    const events = await db.sql`select data from outbox where type = 'attendance.low'`;
    expect(events.map((e) => e.data)).toEqual([{ courseId: history, userId: learner.id, ratePercent: 50, thresholdPercent: 75, period: isoWeekPeriod(new Date()) }]);
    expect(await mailsTo(app, learner.email, "Your attendance in")).toHaveLength(1);
    expect(await mailsTo(app, instructor.email, "Lena Learner's attendance")).toHaveLength(1);
    expect(await mailsTo(app, fine.email, "Your attendance in")).toHaveLength(0);
    expect(await mailsTo(app, elsewhere.email, "Lena Learner's attendance")).toHaveLength(0);
  });
});

describe("transcript", () => {
  it("lists every course taken with grade, completion, attendance and certificates, in JSON and as a PDF", async () => {
    // Chemistry: completed through a required quiz passed, which issues the certificate.
    chemistry = await course("Chemistry", "CHE-200");
    const quiz = await call(app, "POST", `/v1/courses/${chemistry}/assessments`, {
      token: admin.accessToken,
      body: { title: "Check", kind: "quiz", requiredForCompletion: true, items: [{ id: "q", type: "true-false", points: 1 }], keys: { q: { type: "true-false", correct: true } } },
    });
    const { id: quizId } = (await quiz.json()) as { id: string };
    await enroll(chemistry, learner);
    const attempt = (await (await call(app, "POST", `/v1/assessments/${quizId}/attempts`, { token: learner.accessToken })).json()) as { id: string };
    await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { q: true } } });
    expect((await call(app, "POST", `/v1/attempts/${attempt.id}/submit`, { token: learner.accessToken })).status).toBeLessThan(300);
    const cert = await until("the certificate", async () => (await db.sql<{ id: string; code: string }[]>`select id, code from certificates where course_id = ${chemistry} and user_id = ${learner.id}`)[0]);
    // Geography: dropped. Latin: only waitlisted, never enrolled, so not on the transcript.
    geography = await course("Geography", "GEO-110");
    await enroll(geography, learner);
    await db.sql`update enrollments set status = 'dropped', ended_at = now() where course_id = ${geography} and user_id = ${learner.id}`;
    const latin = await course("Latin", "LAT-100");
    await db.sql`insert into enrollments (id, course_id, user_id, status, source, waitlisted_at) values (${uuidv7()}, ${latin}, ${learner.id}, 'waitlisted', 'self', now())`;

    const res = await call(app, "GET", "/v1/me/transcript", { token: learner.accessToken });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    const transcript = (await res.json()) as { learner: { id: string; name: string }; courses: Record<string, unknown>[] };
    expect(transcript.learner).toEqual({ id: learner.id, name: "Lena Learner" });
    expect(transcript.courses.map((c) => c.title)).toEqual(["Medieval History", "Chemistry", "Geography"]);
    const [his, che, geo] = transcript.courses;
    expect(his).toMatchObject({
      courseId: history,
      code: "HIS-101",
      status: "active",
      endedAt: null,
      finalGradePercent: null,
      attendance: { ratePercent: 50, present: 1, late: 1, absent: 2, excused: 0 },
      certificates: [],
    });
    expect(che).toMatchObject({
      courseId: chemistry,
      status: "completed",
      finalGradePercent: 100,
      completion: { percent: 100, completedAt: expect.any(String) },
      attendance: { ratePercent: null },
      certificates: [{ id: cert.id, code: cert.code, issuedAt: expect.any(String), verifyUrl: expect.stringMatching(new RegExp(`/certificates/verify/${cert.code}$`)) }],
    });
    expect(geo).toMatchObject({ courseId: geography, status: "dropped", endedAt: expect.any(String) });
    // The verification URL is the one the certificate routes verify.
    const verified = await jsonOf(await call(app, "GET", `/v1/certificates/verify/${cert.code}`));
    expect(verified).toMatchObject({ valid: true, courseTitle: "Chemistry" });

    const pdfRes = await call(app, "GET", "/v1/me/transcript?format=pdf", { token: learner.accessToken });
    expect(pdfRes.status).toBe(200);
    expect(pdfRes.headers.get("content-type")).toBe("application/pdf");
    const bytes = new Uint8Array(await pdfRes.arrayBuffer());
    expect(Buffer.from(bytes.subarray(0, 5)).toString()).toBe("%PDF-");
    const doc = await PDFDocument.load(bytes);
    expect(doc.getTitle()).toBe("Transcript: Lena Learner");
    const text = await pdfText(bytes);
    for (const expected of ["Academic transcript", "Lena Learner", "Medieval History", "Chemistry", "Geography", "completed", "dropped", "100%", "50%", cert.code]) expect(text).toContain(expected);
    expect(text).not.toContain("Latin");

    // Someone else's transcript is their own; a bad format and no token are refused.
    expect(((await jsonOf(await call(app, "GET", "/v1/me/transcript", { token: instructor.accessToken }))) as { courses: unknown[] }).courses).toEqual([]);
    const bad = await call(app, "GET", "/v1/me/transcript?format=docx", { token: learner.accessToken });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
    expect((await call(app, "GET", "/v1/me/transcript")).status).toBe(401);
  });
});
