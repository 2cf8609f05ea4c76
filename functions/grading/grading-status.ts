import { z } from "zod";

/**
 * What the gradeSubmission orchestration sets as its custom status, phase by phase; the orchestrator sets it
 * through this type and the grading-status route documents it with this schema, so the two cannot drift.
 */
export const gradingStatusSchema = z.discriminatedUnion("phase", [
  z.object({ phase: z.literal("recording") }).meta({ description: "Grading automatically, or recording the grade" }),
  z.object({ phase: z.literal("waiting-for-grader"), items: z.array(z.string()).meta({ description: "The manual items no grader has scored yet" }) }),
  z.object({ phase: z.literal("graded"), gradeId: z.uuid().meta({ description: "The grade this run recorded; later regrades add versions" }) }),
]);

export type GradingStatus = z.infer<typeof gradingStatusSchema>;
