import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { mailsTo, waitForMail } from "../support/mailbox.js";
import { expectProblem } from "../support/problems.js";
import { recentErrors, waitFor } from "../support/wait-for.js";
import { fireFunction, succeededRuns } from "../support/timers.js";

// One app for the whole evaluations part: templates, scheduling, the timer (fired through the runtime's admin route;
// its schedule never comes round by itself), anonymous answers, withheld and shown results, and what is stored.

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let instructor: TestUser;
/** An instructor of the course scoped to one section. */
let scoped: TestUser;
let learners: TestUser[];
let courseId: string;
let templateId: string;
let first: string;
let later: string;

const as = (user: TestUser, body?: unknown, headers?: Record<string, string>) => ({ token: user.accessToken, ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) });
const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();
const questions = [
  { id: "overall", kind: "likert", prompt: "Overall, the course was good" },
  { id: "format", kind: "choice", prompt: "Which format suits you?", options: ["online", "in person"] },
  { id: "comments", kind: "text", prompt: "Anything else?" },
];
const answer = (user: TestUser, evaluationId: string, answers: Record<string, unknown>) => call(app, "POST", `/v1/evaluations/${evaluationId}/responses`, as(user, { answers }));

async function status(evaluationId: string): Promise<string> {
  const [row] = await db.sql<{ status: string }[]>`select status from course_evaluations where id = ${evaluationId}`;
  return row?.status ?? "";
}

const timerRuns = () => succeededRuns(app, "evaluations");

/**
 * Fires the evaluations timer and waits until the run has finished (the admin route only starts it: the runtime's
 * log says when it succeeded) and `done` holds.
 */
async function runTimer(what: string, done: () => Promise<boolean> = async () => true): Promise<void> {
  const before = timerRuns();
  const res = await fireFunction(app, "evaluations");
  expect(res.status).toBe(202);
  await waitFor(what, async () => (timerRuns() > before && (await done()) ? true : undefined), { diagnostics: () => recentErrors(app) });
}

async function schedule(term: string, opensAt: string, closesAt: string): Promise<string> {
  const res = await call(app, "POST", `/v1/courses/${courseId}/evaluations`, as(instructor, { templateId, term, opensAt, closesAt }));
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** Moves an evaluation's window (the timer acts on times; tests cannot wait days). */
const setWindow = (evaluationId: string, opensAt: string, closesAt: string) =>
  db.sql`update course_evaluations set opens_at = ${opensAt}, closes_at = ${closesAt} where id = ${evaluationId}`;

const notified = async (evaluationId: string, template: string) =>
  new Set((await db.sql<{ user_id: string }[]>`select user_id from notifications where template = ${template} and subject_id = ${evaluationId}`).map((r) => r.user_id));

beforeAll(async () => {
  ({ db, app } = await startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", EVALUATIONS_SCHEDULE: "0 0 0 1 1 *", EVALUATION_REMINDER_HOURS: "24" }));
  [admin, instructor, scoped, ...learners] = await Promise.all([
    signUp(app, db, { label: "admin", admin: true }),
    signUp(app, db, { label: "instructor" }),
    signUp(app, db, { label: "scoped" }),
    ...Array.from({ length: 6 }, (_, i) => signUp(app, db, { label: `learner${i}` })),
  ]);
  const created = await call(app, "POST", "/v1/courses", as(admin, { title: "Evaluated 101" }));
  courseId = ((await created.json()) as { id: string }).id;
  expect((await call(app, "POST", `/v1/courses/${courseId}/publish`, as(admin))).status).toBe(200);
  expect((await call(app, "POST", `/v1/courses/${courseId}/staff`, as(admin, { userId: instructor.id, role: "instructor" }))).status).toBe(200);
  expect((await call(app, "POST", `/v1/courses/${courseId}/staff`, as(admin, { userId: scoped.id, role: "instructor" }))).status).toBe(200);
  const section = (await (await call(app, "POST", `/v1/courses/${courseId}/sections`, as(admin, { name: "Evening" }))).json()) as { id: string };
  expect((await call(app, "PUT", `/v1/courses/${courseId}/staff/${scoped.id}/sections`, as(admin, { sectionIds: [section.id] }))).status).toBe(200);
  for (const learner of learners) expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, as(admin, { userId: learner.id }))).status).toBe(201);
}, 120_000);
afterAll(() => stopAppAndDatabase({ db, app }));

describe("course evaluations", () => {
  it("lets administrators define templates, validated, with ETags", async () => {
    expect((await call(app, "POST", "/v1/evaluation-templates", as(instructor, { title: "End of course", questions }))).status).toBe(403);
    await expectProblem(await call(app, "POST", "/v1/evaluation-templates", as(admin, { title: "Dup", questions: [questions[0], questions[0]] })), 400, "VALIDATION_FAILED");
    await expectProblem(await call(app, "POST", "/v1/evaluation-templates", as(admin, { title: "One option", questions: [{ id: "c", kind: "choice", prompt: "?", options: ["only"] }] })), 400, "VALIDATION_FAILED");
    const res = await call(app, "POST", "/v1/evaluation-templates", as(admin, { title: "End of course", questions }));
    expect(res.status).toBe(201);
    const template = (await res.json()) as { id: string; questions: { required: boolean }[]; inUse: boolean };
    templateId = template.id;
    expect(template.questions.map((q) => q.required)).toEqual([true, true, false]);
    const etag = res.headers.get("etag") as string;
    expect((await call(app, "GET", `/v1/evaluation-templates/${templateId}`, as(instructor, undefined, { "if-none-match": etag }))).status).toBe(304);
    const renamed = await call(app, "PATCH", `/v1/evaluation-templates/${templateId}`, as(admin, { title: "End of course survey" }, { "if-match": etag }));
    expect(renamed.status).toBe(200);
    // Only tags this API issued: the version alone, without the in-use mark, is not one.
    const issued = renamed.headers.get("etag") as string;
    await expectProblem(await call(app, "PATCH", `/v1/evaluation-templates/${templateId}`, as(admin, { title: "Again" }, { "if-match": issued.replace(/\.u[01]"$/, '"') })), 412, "PRECONDITION_FAILED");
    await expectProblem(await call(app, "PATCH", `/v1/evaluation-templates/${templateId}`, as(admin, { title: "Again" }, { "if-match": etag })), 412, "PRECONDITION_FAILED");
    const listed = (await (await call(app, "GET", "/v1/evaluation-templates", as(instructor))).json()) as { items: { id: string }[] };
    expect(listed.items.map((t) => t.id)).toContain(templateId);
  });

  it("schedules evaluations for a course (instructors), refusing bad windows and answers before opening", async () => {
    await expectProblem(await call(app, "POST", `/v1/courses/${courseId}/evaluations`, as(instructor, { templateId, term: "T", opensAt: inHours(2), closesAt: inHours(1) })), 422, "EVALUATION_WINDOW_INVALID");
    await expectProblem(await call(app, "POST", `/v1/courses/${courseId}/evaluations`, as(instructor, { templateId, term: "T", opensAt: inHours(1), closesAt: inHours(24 * 400) })), 422, "EVALUATION_WINDOW_INVALID");
    expect((await call(app, "POST", `/v1/courses/${courseId}/evaluations`, as(learners[0] as TestUser, { templateId, term: "T", opensAt: inHours(1), closesAt: inHours(2) }))).status).toBe(403);
    // An evaluation asks every section: not an instructor scoped to one.
    await expectProblem(await call(app, "POST", `/v1/courses/${courseId}/evaluations`, as(scoped, { templateId, term: "T", opensAt: inHours(1), closesAt: inHours(2) })), 403, "SECTION_OUT_OF_SCOPE");
    first = await schedule("2026 autumn", inHours(-0.1), inHours(72));
    later = await schedule("2027 spring", inHours(24), inHours(72));
    await expectProblem(await answer(learners[0] as TestUser, later, { overall: 4, format: "online" }), 409, "EVALUATION_NOT_OPEN");
    // The template is in use now: its questions are fixed.
    await expectProblem(await call(app, "PATCH", `/v1/evaluation-templates/${templateId}`, as(admin, { questions })), 409, "EVALUATION_TEMPLATE_IN_USE");
  });

  it("opens due evaluations on the timer and tells every active learner once", async () => {
    await runTimer("the evaluation to open", async () => (await status(first)) === "open");
    const mail = await waitForMail(app, (learners[5] as TestUser).email, "Tell us about Evaluated 101");
    expect(mail.text).toContain("anonymous");
    expect(await notified(first, "evaluation-opened")).toEqual(new Set(learners.map((l) => l.id)));
    expect(await status(later)).toBe("scheduled");
    const types = await db.sql<{ type: string; data: Record<string, unknown> }[]>`select type, data from outbox where aggregate_id = ${first}`;
    expect(types.map((t) => t.type)).toEqual(["evaluation.opened"]);
    expect(Object.keys(types[0]?.data ?? {}).sort()).toEqual(["closesAt", "courseId", "evaluationId", "openedAt"]);
  });

  it("takes each learner's answers once, checked against the questions; staff do not answer", async () => {
    const [a, b, c, d, e] = learners as [TestUser, TestUser, TestUser, TestUser, TestUser];
    const invalid = await expectProblem(await answer(a, first, { overall: 6, format: "by post", extra: "x" }), 422, "EVALUATION_ANSWERS_INVALID");
    expect((invalid.issues as { questionId: string }[]).map((i) => i.questionId).sort()).toEqual(["extra", "format", "overall"]);
    await expectProblem(await answer(a, first, { format: "online" }), 422, "EVALUATION_ANSWERS_INVALID");
    await expectProblem(await answer(a, first, { overall: 3, format: "online", comments: "x".repeat(5001) }), 422, "EVALUATION_ANSWERS_INVALID");
    await expectProblem(await answer(a, first, { overall: 3, format: "online", comments: "a\u0000b" }), 400, "VALIDATION_FAILED");
    await expectProblem(await answer(a, first, { overall: 3, format: "online", comments: "x".repeat(1_100_000) }), 413, "PAYLOAD_TOO_LARGE");
    await expectProblem(await answer(instructor, first, { overall: 5, format: "online" }), 403, "EVALUATION_NOT_LEARNER");
    for (const [i, learner] of [a, b, c, d].entries()) {
      expect((await answer(learner, first, { overall: i + 2, format: "online", comments: `first term ${i}` })).status).toBe(204);
    }
    await expectProblem(await answer(a, first, { overall: 1, format: "online" }), 409, "EVALUATION_ALREADY_ANSWERED");
    const seenByA = (await (await call(app, "GET", `/v1/courses/${courseId}/evaluations`, as(a))).json()) as { items: { id: string; answered: boolean; responseCount: number | null }[] };
    expect(seenByA.items).toEqual([expect.objectContaining({ id: first, answered: true, responseCount: null })]);
    const seenByE = (await (await call(app, "GET", `/v1/courses/${courseId}/evaluations`, as(e))).json()) as { items: { answered: boolean }[] };
    expect(seenByE.items.map((i) => i.answered)).toEqual([false]);
    const staffView = (await (await call(app, "GET", `/v1/courses/${courseId}/evaluations`, as(instructor))).json()) as { items: { id: string; responseCount: number }[] };
    expect(staffView.items.find((i) => i.id === first)?.responseCount).toBe(4);
    const open = await expectProblem(await call(app, "GET", `/v1/evaluations/${first}/results`, as(instructor)), 409, "EVALUATION_RESULTS_WITHHELD");
    expect(open.reason).toBe("not-closed");
    expect(open).not.toHaveProperty("responseCount");
    expect((await call(app, "GET", `/v1/evaluations/${first}/results`, as(a))).status).toBe(403);
  });

  it("reminds only the learners who have not answered, once", async () => {
    // Open since before the reminder point (a window opened inside it gets no reminder: the domain tests).
    await db.sql`update course_evaluations set opens_at = now() - interval '30 hours', opened_at = now() - interval '30 hours', closes_at = now() + interval '2 hours' where id = ${first}`;
    await runTimer("the reminder", async () => (await db.sql`select 1 from course_evaluations where id = ${first} and reminded_at is not null`).length === 1);
    await waitForMail(app, (learners[4] as TestUser).email, "The evaluation of Evaluated 101 closes");
    expect(await notified(first, "evaluation-reminder")).toEqual(new Set([learners[4]?.id, learners[5]?.id]));
    // A second run, finished, reminds nobody again (reminded_at is set): still one reminder each, none to respondents.
    // (Two runs racing remind once: the claim is the one the domain tests race for the opening.)
    await runTimer("a second run");
    expect(await notified(first, "evaluation-reminder")).toEqual(new Set([learners[4]?.id, learners[5]?.id]));
    expect(await db.sql`select 1 from notifications where template = 'evaluation-reminder' and subject_id = ${first}`).toHaveLength(2);
    expect(await mailsTo(app, (learners[4] as TestUser).email, "The evaluation of Evaluated 101 closes")).toHaveLength(1);
    expect(await mailsTo(app, (learners[0] as TestUser).email, "The evaluation of Evaluated 101 closes")).toHaveLength(0);
  });

  it("closes on the timer and withholds the results of 4 answers", async () => {
    await setWindow(first, inHours(-2), new Date(Date.now() - 1000).toISOString());
    await runTimer("the evaluation to close", async () => (await status(first)) === "closed");
    // The vacuum after the close ran on the pool, outside the transaction (VACUUM refuses one).
    expect(app.output()).not.toContain("vacuum of evaluation_responses after a close failed");
    await waitFor("the vacuum after the close", async () => ((await db.sql`select 1 from pg_stat_user_tables where relname = 'evaluation_responses' and last_vacuum is not null`).length ? true : undefined));
    await expectProblem(await answer(learners[4] as TestUser, first, { overall: 3, format: "online" }), 409, "EVALUATION_NOT_OPEN");
    const withheld = await expectProblem(await call(app, "GET", `/v1/evaluations/${first}/results`, as(instructor)), 409, "EVALUATION_RESULTS_WITHHELD");
    expect(withheld).toMatchObject({ reason: "too-few-responses", minResponses: 5, responseCount: 4 });
    expect(withheld).not.toHaveProperty("questions");
  });

  it("shows the results of 5 answers: aggregates, distributions and shuffled text, in JSON and guarded CSV", async () => {
    await setWindow(later, inHours(-0.5), inHours(48));
    await runTimer("the second evaluation to open", async () => (await status(later)) === "open");
    const overall = [5, 4, 4, 2, 5];
    for (const [i, learner] of learners.slice(0, 5).entries()) {
      const comments = i === 0 ? "=HYPERLINK(\"http://evil.example\")" : `second term ${i}`;
      expect((await answer(learner, later, { overall: overall[i], format: i < 2 ? "in person" : "online", comments })).status).toBe(204);
    }
    await setWindow(later, inHours(-1), new Date(Date.now() - 1000).toISOString());
    await runTimer("the second evaluation to close", async () => (await status(later)) === "closed");

    await expectProblem(await call(app, "GET", `/v1/evaluations/${later}/results`, as(scoped)), 403, "SECTION_OUT_OF_SCOPE");
    const res = await call(app, "GET", `/v1/evaluations/${later}/results`, as(instructor));
    expect(res.status).toBe(200);
    const results = (await res.json()) as { n: number; term: string; questions: Record<string, unknown>[] };
    expect(results.n).toBe(5);
    expect(results.questions[0]).toMatchObject({ id: "overall", n: 5, mean: 4, median: 4, distribution: [{ point: 1, count: 0 }, { point: 2, count: 1 }, { point: 3, count: 0 }, { point: 4, count: 2 }, { point: 5, count: 2 }] });
    expect(results.questions[1]).toMatchObject({ id: "format", n: 5, counts: [{ option: "online", count: 3 }, { option: "in person", count: 2 }] });
    expect(([...(results.questions[2]?.answers as string[])]).sort()).toEqual(["=HYPERLINK(\"http://evil.example\")", "second term 1", "second term 2", "second term 3", "second term 4"]);

    const csv = await call(app, "GET", `/v1/evaluations/${later}/results?format=csv`, as(admin));
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const text = await csv.text();
    expect(text.split("\r\n")[0]).toBe("question_id,kind,prompt,n,mean,median,value,count");
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
    expect(text).toContain("overall,likert,\"Overall, the course was good\",5,4,4,5,2");

    // Across terms: only the evaluation that met the minimum.
    const compared = (await (await call(app, "GET", `/v1/evaluation-templates/${templateId}/results`, as(instructor))).json()) as { items: { evaluationId: string; term: string; n: number; questions: { id: string }[] }[] };
    expect(compared.items.map((i) => [i.evaluationId, i.term, i.n])).toEqual([[later, "2027 spring", 5]]);
    expect(compared.items[0]?.questions.map((q) => q.id)).toEqual(["overall", "format"]);
    const comparedByScoped = (await (await call(app, "GET", `/v1/evaluation-templates/${templateId}/results`, as(scoped))).json()) as { items: unknown[] };
    expect(comparedByScoped.items).toEqual([]);
    const comparedCsv = await (await call(app, "GET", `/v1/evaluation-templates/${templateId}/results`, as(admin, undefined, { accept: "text/csv" }))).text();
    expect(comparedCsv.split("\r\n").filter(Boolean)).toHaveLength(1 + 5 + 2);
  });

  it("stores nothing that links a response to a learner", async () => {
    const columns = async (table: string) =>
      (await db.sql<{ column_name: string }[]>`select column_name from information_schema.columns where table_name = ${table} order by column_name`).map((c) => c.column_name);
    expect(await columns("evaluation_responses")).toEqual(["answers", "evaluation_id", "id"]);
    expect(await columns("evaluation_receipts")).toEqual(["evaluation_id", "receipt"]);

    const responses = await db.sql<{ id: string; evaluation_id: string; answers: unknown; xmin: string }[]>`select id, evaluation_id, answers, xmin::text from evaluation_responses`;
    const receipts = await db.sql<{ evaluation_id: string; receipt: string; xmin: string }[]>`select evaluation_id, receipt, xmin::text from evaluation_receipts`;
    expect(responses).toHaveLength(9);
    expect(receipts).toHaveLength(9);
    const stored = JSON.stringify([responses, receipts]);
    for (const user of [...learners, instructor, scoped, admin]) {
      expect(stored).not.toContain(user.id);
      expect(stored).not.toContain(user.email);
    }
    // Random (v4) ids, not time-ordered ones.
    for (const r of responses) expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Without the key a receipt cannot be recomputed: not a plain hash of evaluation and learner.
    const guesses = new Set(
      [first, later].flatMap((e) => learners.flatMap((l) => [`${e}${l.id}`, `${l.id}${e}`].flatMap((s) => [createHash("sha256").update(s).digest("base64url"), createHash("sha256").update(s).digest("hex")]))),
    );
    for (const r of receipts) expect(guesses.has(r.receipt)).toBe(false);
    // Closing wrote the responses again in one statement: their transaction no longer matches their receipt's.
    const receiptTransactions = new Set(receipts.map((r) => r.xmin));
    for (const r of responses) expect(receiptTransactions.has(r.xmin)).toBe(false);
    for (const evaluationId of [first, later]) expect(new Set(responses.filter((r) => r.evaluation_id === evaluationId).map((r) => r.xmin)).size).toBe(1);
    // No event or audit entry was written for an answer.
    const events = await db.sql<{ type: string }[]>`select type from outbox where aggregate_id in (${first}, ${later}) order by type`;
    expect(events.map((e) => e.type)).toEqual(["evaluation.closed", "evaluation.closed", "evaluation.opened", "evaluation.opened"]);
    expect(await db.sql`select 1 from audit_log where details::text like ${`%${first}%`} or details::text like ${`%${later}%`} or target_id in (${first}, ${later})`).toHaveLength(0);
  });
});
