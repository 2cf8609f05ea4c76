import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

let db: TestDatabase;
let app: RunningApp;
let instructor: TestUser;
let grader: TestUser;
let learner: TestUser;
let courseId: string;
let essayRubricId: string;

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000) => waitFor(what, probe, { timeoutMs, diagnostics: () => recentErrors(app) });
const gradesOf = (submissionId: string) =>
  db.sql<{ id: string; percent: number; version: number }[]>`select id, percent, version from grades where submission_id = ${submissionId} order by version`;

const level = (id: string, title: string, points: number) => ({ id, title, points });
const essayCriteria = [
  { kind: "levels", id: "thesis", title: "Thesis", levels: [level("clear", "Clear", 4), level("vague", "Vague", 2), level("missing", "Missing", 0)] },
  { kind: "free-points", id: "evidence", title: "Evidence", maxPoints: 4 },
];

/** An assignment of essay items worth 10 points each. */
async function essayAssignment(title: string, itemIds: string[]): Promise<string> {
  const created = await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
    token: instructor.accessToken,
    body: { title, kind: "assignment", items: itemIds.map((id) => ({ id, type: "essay", points: 10 })), keys: {} },
  });
  expect(created.status).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

/** The learner answers these items and submits; the grading orchestration waits for a grader. */
async function submit(assessmentId: string, itemIds: string[]): Promise<string> {
  const attempt = (await (await call(app, "POST", `/v1/assessments/${assessmentId}/attempts`, { token: learner.accessToken })).json()) as { id: string };
  await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: Object.fromEntries(itemIds.map((id) => [id, `My answer to ${id}`])) } });
  expect((await call(app, "POST", `/v1/attempts/${attempt.id}/submit`, { token: learner.accessToken })).status).toBe(200);
  await until("the orchestration to wait for a grader", async () => {
    const s = await jsonOf(await call(app, "GET", `/v1/submissions/${attempt.id}/grading`, { token: grader.accessToken }));
    return (s.customStatus as { phase?: string } | null)?.phase === "waiting-for-grader" ? s : undefined;
  });
  return attempt.id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url, OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", LOCAL_DURABLE_DATA: "memory" } });
  [instructor, grader, learner] = await Promise.all([signUp(app, db, { admin: true, label: "instructor" }), signUp(app, db, { label: "grader" }), signUp(app, db, { label: "learner" })]);
  courseId = ((await (await call(app, "POST", "/v1/courses", { token: instructor.accessToken, body: { title: "Essays" } })).json()) as { id: string }).id;
  await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: instructor.accessToken });
  await call(app, "POST", `/v1/courses/${courseId}/staff`, { token: instructor.accessToken, body: { userId: grader.id, role: "grader" } });
  expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

describe("rubrics, end to end", () => {
  it("refuses a rubric whose levels are not ordered, naming the criterion, and creates nothing", async () => {
    const res = await call(app, "POST", `/v1/courses/${courseId}/rubrics`, {
      token: instructor.accessToken,
      body: { title: "Bad", criteria: [{ kind: "levels", id: "flow", title: "Flow", levels: [level("low", "Low", 1), level("high", "High", 3)] }] },
    });
    expect(res.status).toBe(422);
    const problem = await jsonOf(res);
    expect(problem).toMatchObject({ code: "RUBRIC_LEVELS_UNORDERED", criteria: ["flow"] });
    expect(await db.sql`select 1 from rubrics`).toHaveLength(0);
    expect((await call(app, "POST", `/v1/courses/${courseId}/rubrics`, { token: grader.accessToken, body: { title: "Mine", criteria: essayCriteria } })).status).toBe(403);
  });

  it("grades an essay by rubric through the manual step; the learner's explanation lists every criterion with its level and comment", async () => {
    const created = await call(app, "POST", `/v1/courses/${courseId}/rubrics`, { token: instructor.accessToken, body: { title: "Essay rubric", criteria: essayCriteria } });
    expect(created.status).toBe(201);
    expect(created.headers.get("etag")).toBe('"r1"');
    essayRubricId = ((await created.json()) as { id: string }).id;
    const listed = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/rubrics`, { token: grader.accessToken }));
    expect((listed.items as { id: string }[]).map((r) => r.id)).toEqual([essayRubricId]);

    const assessmentId = await essayAssignment("Reflection", ["e1"]);
    const attached = await call(app, "PUT", `/v1/assessments/${assessmentId}/rubrics`, { token: instructor.accessToken, body: { items: { e1: essayRubricId }, whole: null } });
    expect(await jsonOf(attached)).toEqual({ items: { e1: essayRubricId }, whole: null });
    const shown = await jsonOf(await call(app, "GET", `/v1/assessments/${assessmentId}`, { token: learner.accessToken }));
    expect(shown.rubrics).toEqual({ items: { e1: essayRubricId }, whole: null });
    const submissionId = await submit(assessmentId, ["e1"]);

    // Bad choices are refused and store nothing.
    const bad = async (criteria: unknown[]) => {
      const res = await call(app, "POST", `/v1/submissions/${submissionId}/grades`, { token: grader.accessToken, body: { scores: [{ itemId: "e1", rubric: { criteria } }] } });
      expect(res.status).toBe(422);
      return ((await jsonOf(res)) as { code: string; detail: string });
    };
    expect(await bad([{ criterionId: "thesis", levelId: "brilliant" }, { criterionId: "evidence", points: 1 }])).toMatchObject({ code: "INVALID_RUBRIC_CHOICES", detail: expect.stringContaining("no level brilliant") });
    expect(await bad([{ criterionId: "thesis", levelId: "clear" }, { criterionId: "evidence", points: 5 }])).toMatchObject({ detail: expect.stringContaining("from 0 to 4") });
    expect(await bad([{ criterionId: "thesis", levelId: "clear" }])).toMatchObject({ detail: expect.stringContaining("evidence: not chosen") });
    expect(await db.sql`select 1 from manual_scores where submission_id = ${submissionId}`).toHaveLength(0);

    const scored = await call(app, "POST", `/v1/submissions/${submissionId}/grades`, {
      token: grader.accessToken,
      body: {
        scores: [
          {
            itemId: "e1",
            rubric: { criteria: [{ criterionId: "thesis", levelId: "vague", comment: "Say what you claim" }, { criterionId: "evidence", points: 3, comment: "Two good sources" }] },
            feedback: "A good start",
          },
        ],
      },
    });
    expect(await jsonOf(scored)).toEqual({ waitingItems: [] });
    // (2 + 3) of 8 rubric points → 6.25 of 10.
    const grade = await until("the rubric grade", async () => (await gradesOf(submissionId))[0]);
    expect(grade).toMatchObject({ percent: 62.5, version: 1 });
    // The learner finds it from their submissions, as their grade views link it.
    const mine = await jsonOf(await call(app, "GET", `/v1/me/submissions?assessmentId=${assessmentId}`, { token: learner.accessToken }));
    const link = (mine.items as { grade: { id: string; explanation: string } | null }[])[0]?.grade;
    expect(link?.id).toBe(grade.id);
    const explanation = await jsonOf(await call(app, "GET", `/v1/grades/${grade.id}/explanation`, { token: learner.accessToken }));
    const [item] = explanation.items as { itemId: string; points: number; explanation: string; rubric: Record<string, unknown> }[];
    expect(item).toMatchObject({ itemId: "e1", points: 6.25, rubric: { rubricId: essayRubricId, version: 1, target: "item", earned: 5, max: 8 } });
    expect(item?.rubric.criteria).toEqual([
      { criterionId: "thesis", title: "Thesis", levelId: "vague", level: "Vague", points: 2, maxPoints: 4, comment: "Say what you claim" },
      { criterionId: "evidence", title: "Evidence", levelId: null, level: null, points: 3, maxPoints: 4, comment: "Two good sources" },
    ]);
    expect(item?.explanation).toContain("Thesis: Vague (2 of 4) — Say what you claim");
  }, 90_000);

  it("scores every manual item of an assignment with its whole-assessment rubric", async () => {
    const whole = await jsonOf(
      await call(app, "POST", `/v1/courses/${courseId}/rubrics`, { token: instructor.accessToken, body: { title: "Whole", criteria: [{ kind: "free-points", id: "overall", title: "Overall", maxPoints: 5 }] } }),
    );
    const assessmentId = await essayAssignment("Portfolio", ["p1", "p2"]);
    const items = await call(app, "PUT", `/v1/assessments/${assessmentId}/rubrics`, { token: instructor.accessToken, body: { items: {}, whole: whole.id } });
    expect(items.status).toBe(200);
    const submissionId = await submit(assessmentId, ["p1", "p2"]);
    const scored = await call(app, "POST", `/v1/submissions/${submissionId}/grades`, {
      token: grader.accessToken,
      body: { wholeRubric: { criteria: [{ criterionId: "overall", points: 4, comment: "Consistent" }] } },
    });
    expect(await jsonOf(scored)).toEqual({ waitingItems: [] });
    const grade = await until("the whole-rubric grade", async () => (await gradesOf(submissionId))[0]);
    expect(grade.percent).toBe(80);
    const explanation = await jsonOf(await call(app, "GET", `/v1/grades/${grade.id}/explanation`, { token: learner.accessToken }));
    expect((explanation.items as { itemId: string; points: number; rubric: { target: string } }[]).map((i) => [i.itemId, i.points, i.rubric.target])).toEqual([
      ["p1", 8, "whole"],
      ["p2", 8, "whole"],
    ]);
    // The whole rubric scored these submissions: it cannot be swapped out now.
    const swap = await call(app, "PUT", `/v1/assessments/${assessmentId}/rubrics`, { token: instructor.accessToken, body: { items: {}, whole: essayRubricId } });
    expect(swap.status).toBe(409);
    expect((await jsonOf(swap)).code).toBe("RUBRIC_IN_USE");

    // An essay left blank stays unanswered: the whole rubric scores the answered one only (4 of 5 → 8 of 10; 8 of 20 = 40%).
    const partlyBlank = await essayAssignment("Two prompts", ["q1", "q2"]);
    expect((await call(app, "PUT", `/v1/assessments/${partlyBlank}/rubrics`, { token: instructor.accessToken, body: { items: {}, whole: whole.id } })).status).toBe(200);
    const blankSubmission = await submit(partlyBlank, ["q1"]);
    const blankScored = await call(app, "POST", `/v1/submissions/${blankSubmission}/grades`, { token: grader.accessToken, body: { wholeRubric: { criteria: [{ criterionId: "overall", points: 4 }] } } });
    expect(await jsonOf(blankScored)).toEqual({ waitingItems: [] });
    expect(await db.sql`select item_id from manual_scores where submission_id = ${blankSubmission}`).toEqual([{ item_id: "q1" }]);
    const blankGrade = await until("the grade with a blank essay", async () => (await gradesOf(blankSubmission))[0]);
    expect(blankGrade.percent).toBe(40);
    const blankExplained = await jsonOf(await call(app, "GET", `/v1/grades/${blankGrade.id}/explanation`, { token: learner.accessToken }));
    expect((blankExplained.items as { itemId: string; points: number; status: string }[]).map((i) => [i.itemId, i.points, i.status])).toEqual([
      ["q1", 8, "graded"],
      ["q2", 0, "unanswered"],
    ]);
  }, 90_000);

  it("dry-runs a rubric change without changing anything, refuses removing a used level, then regrades with a new grade version", async () => {
    const [submission] = await db.sql<{ id: string }[]>`select s.id from attempts s join assessments a on a.id = s.assessment_id where a.title = 'Reflection'`;
    const submissionId = submission?.id as string;
    const richer = [
      { kind: "levels", id: "thesis", title: "Thesis", levels: [level("clear", "Clear", 4), level("vague", "Vague", 3), level("missing", "Missing", 0)] },
      { kind: "free-points", id: "evidence", title: "Evidence", maxPoints: 4 },
    ];
    const before = await db.sql`select id, version, percent from grades order by id`;
    const dry = await call(app, "PUT", `/v1/rubrics/${essayRubricId}?dryRun=true`, { token: instructor.accessToken, body: { title: "Essay rubric", criteria: richer } });
    expect(dry.status).toBe(200);
    // Vague now 3: (3 + 3) of 8 → 7.5 of 10.
    expect(await jsonOf(dry)).toEqual({
      dryRun: true,
      truncated: false,
      assessments: [{ assessmentId: expect.any(String), submissions: [{ submissionId, userId: learner.id, before: 62.5, after: 75 }] }],
    });
    expect(await db.sql`select id, version, percent from grades order by id`).toEqual(before);
    expect(await db.sql`select version from rubrics where id = ${essayRubricId}`).toEqual([{ version: 1 }]);

    expect((await call(app, "PUT", `/v1/rubrics/${essayRubricId}`, { token: instructor.accessToken, body: { title: "Essay rubric", criteria: richer } })).status).toBe(428);
    const stale = await call(app, "PUT", `/v1/rubrics/${essayRubricId}`, { token: instructor.accessToken, headers: { "if-match": '"r9"' }, body: { title: "Essay rubric", criteria: richer } });
    expect(stale.status).toBe(412);
    const withoutVague = [{ kind: "levels", id: "thesis", title: "Thesis", levels: [level("clear", "Clear", 4), level("missing", "Missing", 0)] }, essayCriteria[1]];
    const removing = await call(app, "PUT", `/v1/rubrics/${essayRubricId}`, { token: instructor.accessToken, headers: { "if-match": '"r1"' }, body: { title: "Essay rubric", criteria: withoutVague } });
    expect(removing.status).toBe(409);
    expect(await jsonOf(removing)).toMatchObject({ code: "RUBRIC_LEVELS_IN_USE", inUse: [{ criterionId: "thesis", levelId: "vague", reason: "removed" }] });
    // The dry run refuses what the change refuses: here lowering a free maximum below a stored choice (3 evidence points).
    const lowered = [essayCriteria[0], { kind: "free-points", id: "evidence", title: "Evidence", maxPoints: 2 }];
    const dryLowered = await call(app, "PUT", `/v1/rubrics/${essayRubricId}?dryRun=true`, { token: instructor.accessToken, body: { title: "Essay rubric", criteria: lowered } });
    expect(dryLowered.status).toBe(409);
    expect(await jsonOf(dryLowered)).toMatchObject({ code: "RUBRIC_LEVELS_IN_USE", inUse: [{ criterionId: "evidence", levelId: null, reason: "over-maximum" }] });

    const changed = await call(app, "PUT", `/v1/rubrics/${essayRubricId}`, { token: instructor.accessToken, headers: { "if-match": '"r1"' }, body: { title: "Essay rubric", criteria: richer } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).toBe('"r2"');
    const regraded = await until("the regraded version", async () => (await gradesOf(submissionId)).find((g) => g.version === 2));
    expect(regraded.percent).toBe(75);
    expect((await gradesOf(submissionId)).map((g) => [g.version, g.percent])).toEqual([
      [1, 62.5],
      [2, 75],
    ]);
    const explanation = await jsonOf(await call(app, "GET", `/v1/grades/${regraded.id}/explanation`, { token: learner.accessToken }));
    expect((explanation.items as { rubric: { version: number; criteria: { points: number }[] } }[])[0]?.rubric).toMatchObject({ version: 2, criteria: [{ points: 3 }, { points: 3 }] });
    expect(await db.sql`select 1 from audit_log where action = 'rubric.changed' and target_id = ${essayRubricId}`).toHaveLength(1);

    // Attached: not deletable.
    const del = await call(app, "DELETE", `/v1/rubrics/${essayRubricId}`, { token: instructor.accessToken });
    expect(del.status).toBe(409);
  }, 90_000);
});
