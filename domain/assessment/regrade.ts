import type { Executor } from "../db/client.js";
import { gradeSubmission, nextGradeVersion, recordGrade, type RegradeDifference, regradeDifference } from "../grading/grade-submission.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { submissionsToRegrade } from "./change-assessment.js";
import { findAssessment } from "./manage-assessment.js";

/** A dry run of a regrade: per submission graded with an older key, its grade now and with the current key. Reads only. */
export async function regradeDifferences(db: Executor, assessmentId: string): Promise<Result<RegradeDifference[], "ASSESSMENT_NOT_FOUND">> {
  if (!(await findAssessment(db, assessmentId))) return fail("ASSESSMENT_NOT_FOUND");
  const differences: RegradeDifference[] = [];
  for (const id of await submissionsToRegrade(db, assessmentId)) {
    const d = await regradeDifference(db, id);
    if (d) differences.push(d);
  }
  return ok(differences);
}

/**
 * Regrades one submission with the current key: a new grade version, never an overwrite. A retried regrade
 * finds the newest grade carrying this key version already and adds nothing. Answers what changed; null when
 * the submission is not submitted (or does not exist).
 */
export async function regradeSubmission(ctx: DomainContext, submissionId: string): Promise<RegradeDifference | null> {
  const outcome = await gradeSubmission(ctx.db, submissionId);
  const difference = await regradeDifference(ctx.db, submissionId, outcome);
  if (!outcome || !difference) return null;
  if (difference.keyVersionBefore !== null && difference.keyVersionBefore >= outcome.keyVersion) return difference;
  await recordGrade(ctx, outcome, await nextGradeVersion(ctx.db, submissionId));
  return difference;
}
