import { findAssessment } from "../../domain/assessment/manage-assessment.js";
import { attemptOwnership } from "../../domain/assessment/submissions.js";
import type { Locator } from "../platform/http/access.js";

// Locators several route modules share, defined once.

/** The course an `{assessmentId}` path parameter belongs to (null: no such assessment, so the access check answers 404). */
export const assessmentCourse: Locator = {
  describe: "the assessment's course",
  resolve: async (params, db) => (await findAssessment(db, params.assessmentId as string))?.courseId ?? null,
};

/** The course of an `{attemptId}` or `{submissionId}` (a submission is a submitted attempt); null: no such attempt. */
export const attemptCourse: Locator = {
  describe: "the attempt's (submission's) course",
  resolve: async (params, db) => (await attemptOwnership(db, (params.attemptId ?? params.submissionId) as string))?.courseId ?? null,
};
