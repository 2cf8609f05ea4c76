import { describe, expect, it } from "vitest";
import { courseGrade } from "../../../domain/grading/course-grade.js";
import { gradebookCsv } from "../../../domain/grading/gradebook.js";

const r = (assessmentId: string, category: string, percent: number | null, excused = false) => ({ assessmentId, category, percent, excused });

describe("the course grade", () => {
  it("weights categories, drops the lowest N and ignores excused and ungraded items", () => {
    const g = courseGrade(
      [r("q1", "Quizzes", 50), r("q2", "Quizzes", 90), r("q3", "Quizzes", 70), r("q4", "Quizzes", 0, true), r("e1", "Essays", 80), r("e2", "Essays", null)],
      [
        { name: "Quizzes", weightPercent: 40, dropLowest: 1 },
        { name: "Essays", weightPercent: 60, dropLowest: 0 },
      ],
    );
    const quizzes = g.categories.find((c) => c.name === "Quizzes");
    expect(quizzes).toMatchObject({ percent: 80, dropped: ["q1"] });
    expect(g.categories.find((c) => c.name === "Essays")?.percent).toBe(80);
    expect(g.percent).toBe(80);
  });

  it("rescales to the categories that have results, and never drops every result", () => {
    const g = courseGrade([r("q1", "Quizzes", 60)], [{ name: "Quizzes", weightPercent: 30, dropLowest: 3 }, { name: "Exams", weightPercent: 70, dropLowest: 0 }]);
    expect(g.percent).toBe(60);
    expect(g.categories.find((c) => c.name === "Quizzes")?.counted).toEqual(["q1"]);
  });

  it("shares the weight left over among categories nobody configured", () => {
    const g = courseGrade([r("a", "Labs", 100), r("b", "Homework", 50)], [{ name: "Labs", weightPercent: 50, dropLowest: 0 }]);
    expect(g.categories.find((c) => c.name === "Homework")?.weightPercent).toBe(50);
    expect(g.percent).toBe(75);
  });

  it("has no grade before anything is graded", () => {
    expect(courseGrade([r("a", "X", null)], []).percent).toBeNull();
  });
});

describe("the gradebook CSV", () => {
  it("quotes what needs quoting and defuses formulas", () => {
    const csv = gradebookCsv({
      assessments: [{ id: "a1", title: 'Quiz, "one"', category: "Q" }],
      rows: [{ userId: "u1", displayName: "=HYPERLINK(evil)", email: "x@y.z", inactive: true, results: { a1: 75 }, course: { percent: 75, categories: [] } }],
    });
    expect(csv).toBe('userId,displayName,email,"Quiz, ""one"" (Q)",coursePercent,inactive\r\nu1,\'=HYPERLINK(evil),x@y.z,75,75,true\r\n');
  });
});
