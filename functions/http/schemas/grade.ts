import { z } from "zod";

/** The weighted course grade (domain/grading/course-grade.ts), as the gradebook and a learner's grades show it. */
export const courseGradeSchema = z.object({
  percent: z.number().nullable(),
  categories: z.array(z.object({ name: z.string(), weightPercent: z.number(), percent: z.number().nullable(), counted: z.array(z.string()), dropped: z.array(z.string()) })),
});
