import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { ATTENDANCE_RESULT_ID, attendanceResultOf, attendanceResults } from "../../../domain/grading/attendance-result.js";
import { courseGrade } from "../../../domain/grading/course-grade.js";
import { gradebook } from "../../../domain/grading/gradebook.js";
import { learnerGrades } from "../../../domain/grading/learner-grades.js";
import { computeProgress } from "../../../domain/progress/course-progress.js";
import type { TestDatabase } from "../../support/database.js";
import { openDomainDatabase } from "../../support/domain-database.js";
import { createCourse } from "../../support/identity.js";

describe("the attendance result in a course grade", () => {
  it("weighs as one result of its category", () => {
    const results = attendanceResultOf({ category: "Participation", percentOf: new Map([["u1", 50]]) }, "u1");
    expect(results).toEqual([{ assessmentId: ATTENDANCE_RESULT_ID, category: "Participation", percent: 50, excused: false, neverDropped: true }]);
    const grade = courseGrade(
      [{ assessmentId: "q1", category: "Participation", percent: 100, excused: false }, { assessmentId: "e1", category: "Exams", percent: 80, excused: false }, ...results],
      [
        { name: "Participation", weightPercent: 20, dropLowest: 0 },
        { name: "Exams", weightPercent: 80, dropLowest: 0 },
      ],
    );
    expect(grade.categories.find((c) => c.name === "Participation")).toMatchObject({ percent: 75, counted: [ATTENDANCE_RESULT_ID, "q1"] });
    expect(grade.percent).toBe(79);
  });

  it("is never dropped by the category's dropLowest, even as its lowest result", () => {
    const results = [
      ...attendanceResultOf({ category: "Participation", percentOf: new Map([["u1", 40]]) }, "u1"),
      { assessmentId: "q1", category: "Participation", percent: 90, excused: false },
      { assessmentId: "q2", category: "Participation", percent: 60, excused: false },
    ];
    const one = courseGrade(results, [{ name: "Participation", weightPercent: 100, dropLowest: 1 }]).categories[0];
    expect(one).toMatchObject({ percent: 65, counted: [ATTENDANCE_RESULT_ID, "q1"], dropped: ["q2"] });
    // Dropping more than the droppable ones leaves attendance alone (and it alone counts).
    const all = courseGrade(results, [{ name: "Participation", weightPercent: 100, dropLowest: 5 }]).categories[0];
    expect(all).toMatchObject({ percent: 40, counted: [ATTENDANCE_RESULT_ID], dropped: ["q2", "q1"] });
  });

  it("makes a gradeCategory the gradebook has not configured share the weight left over, as an assessment's category does", () => {
    const grade = courseGrade(
      [{ assessmentId: "e1", category: "Exams", percent: 80, excused: false }, ...attendanceResultOf({ category: "Attendance", percentOf: new Map([["u1", 50]]) }, "u1")],
      [{ name: "Exams", weightPercent: 70, dropLowest: 0 }],
    );
    expect(grade.categories.find((c) => c.name === "Attendance")).toMatchObject({ weightPercent: 30, percent: 50 });
    expect(grade.percent).toBe(71);
  });

  it("does not count while nothing is counted, and not at all without a category", () => {
    const none = attendanceResultOf({ category: "Participation", percentOf: new Map([["u1", null]]) }, "u1");
    expect(courseGrade(none, [{ name: "Participation", weightPercent: 20, dropLowest: 0 }]).percent).toBeNull();
    expect(attendanceResultOf(undefined, "u1")).toEqual([]);
  });
});

describe("attendance in the gradebook and in completion", () => {
  let db: TestDatabase;
  beforeAll(async () => ({ db } = await openDomainDatabase()));
  afterAll(() => db?.drop());

  async function courseWithRates(policy: { gradeCategory?: string; minRate?: number }) {
    const courseId = await createCourse(db);
    if (policy.gradeCategory || policy.minRate) {
      await db.sql`insert into attendance_policies (course_id, grade_category, min_rate_for_completion) values (${courseId}, ${policy.gradeCategory ?? null}, ${policy.minRate ?? null})`;
    }
    const learners: string[] = [];
    for (const statuses of [["present", "absent"], ["present", "present"], []]) {
      const userId = uuidv7();
      await db.sql`insert into users (id, email, display_name) values (${userId}, ${`${userId}@example.test`}, 'L')`;
      await db.sql`insert into enrollments (id, course_id, user_id, status, source, enrolled_at) values (${uuidv7()}, ${courseId}, ${userId}, 'active', 'self', now())`;
      for (const status of statuses) {
        const sessionId = uuidv7();
        await db.sql`insert into class_sessions (id, course_id, title, starts_at, ends_at, time_zone) values (${sessionId}, ${courseId}, 'S', now() - interval '2 hours', now() - interval '1 hour', 'UTC')`;
        await db.sql`insert into attendance_marks (session_id, user_id, course_id, status, source) values (${sessionId}, ${userId}, ${courseId}, ${status}, 'staff')`;
      }
      learners.push(userId);
    }
    return { courseId, learners };
  }

  it("reads every learner's rate of the graded courses among several courses, and none of the ungraded ones", async () => {
    const graded = await courseWithRates({ gradeCategory: "Attendance" });
    const ungraded = await courseWithRates({});
    const results = await attendanceResults(db.db, [graded.courseId, ungraded.courseId], [...graded.learners, ...ungraded.learners], new Date());
    expect([...results.keys()]).toEqual([graded.courseId]);
    expect(graded.learners.map((u) => results.get(graded.courseId)?.percentOf.get(u))).toEqual([50, 100, null]);
  });

  it("gives a course graded only on attendance a grade in the learner's grades, at the caller's clock", async () => {
    const { courseId, learners } = await courseWithRates({ gradeCategory: "Attendance" });
    const [mine] = await learnerGrades(db.db, learners[0] as string, { limit: 10, asOf: new Date() });
    expect(mine).toMatchObject({ courseId, grades: [] });
    expect(mine?.courseGrade.percent).toBe(50);
    // Before the sessions started nothing counts.
    const [earlier] = await learnerGrades(db.db, learners[0] as string, { limit: 10, asOf: new Date(Date.now() - 3 * 3_600_000) });
    expect(earlier?.courseGrade.percent).toBeNull();
    expect(await learnerGrades(db.db, learners[0] as string, { limit: 10, afterCourseId: courseId, asOf: new Date() })).toEqual([]);
  });

  it("shows the rate in the gradebook and weighs it in the course grade", async () => {
    const { courseId, learners } = await courseWithRates({ gradeCategory: "Attendance" });
    const book = await gradebook(db.db, courseId, { limit: 10, asOf: new Date() });
    expect(book.attendanceCategory).toBe("Attendance");
    const first = book.rows.find((r) => r.userId === learners[0]);
    expect(first?.attendancePercent).toBe(50);
    expect(first?.course.percent).toBe(50);
    expect(book.rows.find((r) => r.userId === learners[2])?.course.percent).toBeNull();
  });

  it("makes completion need the minimum rate; a learner with nothing counted does not meet it", async () => {
    const { courseId, learners } = await courseWithRates({ minRate: 75 });
    const views = await Promise.all(learners.map((u) => computeProgress(db.db, courseId, u, new Date())));
    expect(views.map((v) => [v?.attendance, v?.complete])).toEqual([
      [{ minRatePercent: 75, ratePercent: 50, met: false }, false],
      [{ minRatePercent: 75, ratePercent: 100, met: true }, true],
      [{ minRatePercent: 75, ratePercent: null, met: false }, false],
    ]);
    const plain = await courseWithRates({});
    expect((await computeProgress(db.db, plain.courseId, plain.learners[0] as string, new Date()))?.attendance).toBeNull();
  });
});
