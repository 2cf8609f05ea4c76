import { afterAll, beforeAll, expect, it } from "vitest";
import { jsonOf, type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, signUp } from "../support/identity.js";
import { recentErrors, waitFor } from "../support/wait-for.js";
import { fireFunction } from "../support/timers.js";

let db: TestDatabase;
let app: RunningApp;

beforeAll(async () => ({ db, app } = await startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", LOCAL_DURABLE_DATA: "memory" })));
afterAll(() => stopAppAndDatabase({ db, app }));

interface Analytics {
  from: string;
  to: string;
  summary: Record<string, number>;
  activeLearners: { date: string; count: number; source: string }[];
  enrollments: { date: string; enrolled: number; dropped: number; completed: number; total: number }[];
  dropOff: { lessonId: string; completed: number; stalledHere: number; dropOffRate: number }[];
  grades: { overall: { graded: number; passRate: number }; assessments: { assessmentId: string; graded: number; buckets: { from: number; count: number }[] }[] };
  charts: Record<string, string>;
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

it("gives staff the course's figures from the Cosmos read models, rolled up nightly, with SVG charts", async () => {
  const instructor = await signUp(app, db, { admin: true });
  const [a, b, c, d, outsider] = await Promise.all([signUp(app, db), signUp(app, db), signUp(app, db), signUp(app, db), signUp(app, db)]);
  if (!a || !b || !c || !d || !outsider) throw new Error("sign-up failed");
  const staff = { token: instructor.accessToken };
  const { id: courseId } = (await (await call(app, "POST", "/v1/courses", { ...staff, body: { title: "Physics", passPercent: 60 } })).json()) as { id: string };
  await call(app, "POST", `/v1/courses/${courseId}/publish`, staff);
  const { id: moduleId } = (await (await call(app, "POST", `/v1/courses/${courseId}/modules`, { ...staff, body: { title: "Motion" } })).json()) as { id: string };
  const lessons: string[] = [];
  for (const title of ["Speed", "Force", "Energy"]) {
    lessons.push(((await (await call(app, "POST", `/v1/courses/${courseId}/modules/${moduleId}/lessons`, { ...staff, body: { title, kind: "text", body: title } })).json()) as { id: string }).id);
  }
  const { id: quizId } = (await (
    await call(app, "POST", `/v1/courses/${courseId}/assessments`, { ...staff, body: { title: "Check", kind: "quiz", items: [{ id: "q", type: "true-false", points: 1 }], keys: { q: { type: "true-false", correct: true } } } })
  ).json()) as { id: string };
  for (const l of [a, b, c, d]) expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: l.accessToken })).status).toBe(201);

  // a: every lesson and a passing quiz; b: the first lesson and a failing quiz; c: only viewed a lesson yesterday; d: dropped out.
  for (const lessonId of lessons) await call(app, "POST", `/v1/lessons/${lessonId}/complete`, { token: a.accessToken });
  await call(app, "POST", `/v1/lessons/${lessons[0]}/complete`, { token: b.accessToken });
  for (const [learner, answer] of [[a, true], [b, false]] as const) {
    const attempt = (await (await call(app, "POST", `/v1/assessments/${quizId}/attempts`, { token: learner.accessToken })).json()) as { id: string };
    await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { q: answer } } });
    await call(app, "POST", `/v1/attempts/${attempt.id}/submit`, { token: learner.accessToken });
  }
  expect((await call(app, "DELETE", `/v1/courses/${courseId}/enrollments/${d.id}`, { token: d.accessToken })).status).toBe(204);
  const yesterday = `${day(-1)}T12:00:00.000Z`;
  // The lesson names the course (no courseId in the statement); the outsider is not enrolled, so their statement counts for nothing.
  expect((await call(app, "POST", "/v1/activity", { token: c.accessToken, body: { statements: [{ id: "c-1", verb: "viewed", object: { type: "lesson", id: lessons[0] }, timestamp: yesterday }] } })).status).toBe(202);
  expect((await call(app, "POST", "/v1/activity", { token: outsider.accessToken, body: { statements: [{ id: "o-1", verb: "viewed", object: { type: "course", id: courseId }, timestamp: yesterday }] } })).status).toBe(202);

  const url = `/v1/courses/${courseId}/analytics?from=${day(-6)}`;
  let last: unknown;
  const figures = await waitFor(
    "the analytics read models",
    async () => {
      const f = (await jsonOf(await call(app, "GET", url, staff))) as unknown as Analytics;
      last = f;
      return f.summary?.completed === 1 && f.summary.dropped === 1 && f.grades.overall.graded === 2 && f.dropOff[2]?.completed === 1 ? f : undefined;
    },
    { timeoutMs: 45_000, stepMs: 300, diagnostics: () => `${JSON.stringify(last)}\n${recentErrors(app)}` },
  );
  expect(figures).toMatchObject({ from: day(-6), to: day(0) });
  expect(figures.summary).toEqual({ enrolled: 3, everEnrolled: 4, dropped: 1, completed: 1, completionRate: 0.25, averageProgress: 44.44 });
  expect(figures.enrollments.at(-1)).toEqual({ date: day(0), enrolled: 4, dropped: 1, completed: 1, total: 3 });
  expect(figures.dropOff.map((l) => [l.lessonId, l.completed, l.stalledHere])).toEqual([
    [lessons[0], 2, 1],
    [lessons[1], 1, 1],
    [lessons[2], 1, 0],
  ]);
  expect(figures.grades.assessments).toEqual([expect.objectContaining({ assessmentId: quizId, graded: 2 })]);
  expect(figures.grades.overall.passRate).toBe(0.5);
  // Today: the four who enrolled (and worked); yesterday: c's statement. Neither is rolled up yet.
  expect(figures.activeLearners.slice(-2)).toEqual([
    { date: day(-1), count: 1, source: "live" },
    { date: day(0), count: 4, source: "live" },
  ]);

  // The nightly rollup stores the past days; a second run changes nothing.
  for (let run = 0; run < 2; run++) {
    const fired = await fireFunction(app, "analytics-rollup");
    expect(fired.status).toBe(202);
    const rolled = await waitFor(
      "the rollup",
      async () => {
        const f = (await jsonOf(await call(app, "GET", url, staff))) as unknown as Analytics;
        return f.activeLearners.at(-2)?.source === "rollup" ? f : undefined;
      },
      { timeoutMs: 20_000, stepMs: 200 },
    );
    expect(rolled.activeLearners.slice(-2)).toEqual([
      { date: day(-1), count: 1, source: "rollup" },
      { date: day(0), count: 4, source: "live" },
    ]);
    expect(rolled.activeLearners.slice(0, -2).every((p) => p.count === 0 && p.source === "rollup")).toBe(true);
  }

  // Charts as SVG, linked from the JSON by path (no host: the one the request reached may not be the caller's).
  expect(figures.charts["drop-off"]).toBe(`/api/v1/courses/${courseId}/analytics/charts/drop-off?from=${figures.from}&to=${figures.to}`);
  const chart = await fetch(new URL(figures.charts["drop-off"] as string, app.baseUrl), { headers: { authorization: `Bearer ${instructor.accessToken}` } });
  expect(chart.status).toBe(200);
  expect(chart.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
  const svg = await chart.text();
  expect(svg).toMatch(/^<svg /);
  expect(svg).toContain("Force: 1");
  for (const name of ["active-learners", "enrollments", "grades"]) {
    const res = await call(app, "GET", `/v1/courses/${courseId}/analytics/charts/${name}?assessmentId=${quizId}`, staff);
    expect([name, res.status, res.headers.get("content-type")]).toEqual([name, 200, "image/svg+xml; charset=utf-8"]);
  }

  // Learners see none of it; bad ranges and unknown charts are 4xx problems.
  expect((await call(app, "GET", `/v1/courses/${courseId}/analytics`, { token: a.accessToken })).status).toBe(403);
  for (const [path, status] of [
    [`/v1/courses/${courseId}/analytics?from=${day(0)}&to=${day(-3)}`, 400],
    [`/v1/courses/${courseId}/analytics?from=2020-01-01`, 400],
    [`/v1/courses/${courseId}/analytics?from=${day(5)}`, 400],
    [`/v1/courses/${courseId}/analytics?to=yesterday`, 400],
    [`/v1/courses/${courseId}/analytics/charts/pie`, 400],
    [`/v1/courses/${courseId}/analytics/charts/grades?assessmentId=${courseId}`, 404],
  ] as const) {
    const res = await call(app, "GET", path, staff);
    expect([path, res.status, res.headers.get("content-type")]).toEqual([path, status, "application/problem+json"]);
  }
}, 120_000);
