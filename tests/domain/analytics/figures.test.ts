import { describe, expect, it } from "vitest";
import { barChart, lineChart } from "../../../domain/analytics/charts.js";
import type { CourseStructure } from "../../../domain/analytics/course-structure.js";
import { courseFigures, gradeSummary } from "../../../domain/analytics/figures.js";
import { emptyRecord, type LearnerRecord } from "../../../domain/analytics/learner-record.js";
import { rollupDates } from "../../../domain/analytics/analytics.js";

const structure: CourseStructure = {
  courseId: "c",
  passPercent: 60,
  lessons: [
    { lessonId: "l1", title: "One", moduleTitle: "M", required: true },
    { lessonId: "l2", title: "Two", moduleTitle: "M", required: true },
    { lessonId: "l3", title: "Three", moduleTitle: "M", required: false },
  ],
  assessments: [{ assessmentId: "q1", title: "Quiz" }],
};
const learner = (id: string, r: Partial<LearnerRecord>): LearnerRecord => ({ ...emptyRecord("c", id), ...r });

describe("course figures", () => {
  const learners = [
    learner("a", { status: "active", enrolledAt: "2026-11-01T09:00:00Z", completedAt: "2026-11-03T10:00:00Z", lessonsCompleted: ["l1", "l2", "l3"], progress: { percent: 100, revision: 4 }, grades: { q1: { percent: 95, key: "k" } } }),
    learner("b", { status: "active", enrolledAt: "2026-11-01T10:00:00Z", lessonsCompleted: ["l1"], progress: { percent: 25, revision: 1 }, grades: { q1: { percent: 40, key: "k" } } }),
    learner("c", { status: "active", enrolledAt: "2026-11-02T10:00:00Z" }),
    learner("d", { status: "dropped", enrolledAt: "2026-11-01T11:00:00Z", droppedAt: "2026-11-02T12:00:00Z", lessonsCompleted: ["l1"] }),
    // A record with only a grade (its enrollment event not folded yet) is not counted as a learner.
    learner("e", { grades: { q1: { percent: 10, key: "k" } } }),
  ];
  const f = courseFigures(structure, learners, [], { from: "2026-11-01", to: "2026-11-03" }, new Date("2026-11-03T12:00:00Z"));

  it("summarises enrollment, completion and progress", () => {
    expect(f.summary).toEqual({ enrolled: 3, everEnrolled: 4, dropped: 1, completed: 1, completionRate: 0.25, averageProgress: 41.67 });
  });

  it("draws the enrollment trend day by day", () => {
    expect(f.enrollments).toEqual([
      { date: "2026-11-01", enrolled: 3, dropped: 0, completed: 0, total: 3 },
      { date: "2026-11-02", enrolled: 1, dropped: 1, completed: 0, total: 3 },
      { date: "2026-11-03", enrolled: 0, dropped: 0, completed: 1, total: 3 },
    ]);
  });

  it("shows where learners drop off and where the unfinished ones stalled", () => {
    expect(f.dropOff.map((l) => [l.lessonId, l.completed, l.dropOffRate, l.stalledHere])).toEqual([
      ["l1", 3, 0.25, 1],
      ["l2", 1, 0.6667, 1],
      ["l3", 1, 0, 0],
    ]);
  });

  it("buckets grades, with pass rate, mean and median", () => {
    expect(f.grades.assessments[0]).toMatchObject({ assessmentId: "q1", graded: 2, mean: 67.5, median: 67.5, passRate: 0.5 });
    expect(f.grades.assessments[0]?.buckets.filter((b) => b.count > 0)).toEqual([
      { from: 40, to: 50, count: 1 },
      { from: 90, to: 100, count: 1 },
    ]);
    expect(gradeSummary([100, 0, 59.99, 60], 60)).toMatchObject({ graded: 4, median: 60, passRate: 0.5 });
    expect(gradeSummary([100], 60).buckets[9]?.count).toBe(1);
  });

  it("rolls up the whole days before today", () => {
    expect(rollupDates(new Date("2026-11-22T02:15:00Z"), 3)).toEqual(["2026-11-19", "2026-11-20", "2026-11-21"]);
  });
});

describe("charts", () => {
  it("are SVG with a title, one mark per value and escaped labels", () => {
    const bars = barChart("Lessons <done>", [
      { label: "A & B", value: 3 },
      { label: "C", value: 0 },
    ]);
    expect(bars).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(bars).toContain("<title id=\"t\">Lessons &lt;done&gt;</title>");
    expect(bars.match(/<rect x=/g)).toHaveLength(2);
    expect(bars).toContain("A &amp; B: 3");
    expect(bars).not.toContain("A & B");
    const line = lineChart("Active", [
      { label: "2026-11-01", value: 2 },
      { label: "2026-11-02", value: 5 },
    ]);
    expect(line.match(/<circle /g)).toHaveLength(2);
    expect(line).toContain("2026-11-02: 5");
    expect(lineChart("Empty", [])).toContain("</svg>");
  });
});
