import { findAssessment } from "../../domain/assessment/manage-assessment.js";
import type { Locator } from "../platform/http/access.js";

// Locators several route modules share, defined once.

/** The course an `{assessmentId}` path parameter belongs to (null: no such assessment, so the access check answers 404). */
export const assessmentCourse: Locator = {
  describe: "the assessment's course",
  resolve: async (params, db) => (await findAssessment(db, params.assessmentId as string))?.courseId ?? null,
};
