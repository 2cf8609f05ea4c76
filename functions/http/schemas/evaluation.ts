import { z } from "zod";

const iso = z.iso.datetime();

/** Questions as stored and shown (the input schema is domain/evaluations/questions.ts). */
export const storedQuestionSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["likert", "choice", "text"]),
    prompt: z.string(),
    options: z.array(z.string()).optional(),
    required: z.boolean(),
  })
  .meta({ id: "EvaluationQuestion" });

const shown = { n: z.number().int(), withheld: z.literal(false) };

export const questionSummarySchema = z
  .union([
    z.discriminatedUnion("kind", [
      z.object({
        id: z.string(),
        kind: z.literal("likert"),
        prompt: z.string(),
        ...shown,
        mean: z.number().nullable(),
        median: z.number().nullable(),
        labels: z.array(z.string()).nullable(),
        distribution: z.array(z.object({ point: z.number().int(), count: z.number().int() })),
      }),
      z.object({ id: z.string(), kind: z.literal("choice"), prompt: z.string(), ...shown, counts: z.array(z.object({ option: z.string(), count: z.number().int() })) }),
      z.object({ id: z.string(), kind: z.literal("text"), prompt: z.string(), ...shown, answers: z.array(z.string()).meta({ description: "In random order" }) }),
    ]),
    z
      .object({ id: z.string(), kind: z.enum(["likert", "choice", "text"]), prompt: z.string(), n: z.number().int(), withheld: z.literal(true) })
      .meta({ description: "Fewer than EVALUATION_MIN_RESPONSES answered this question (an optional one): its count only" }),
  ])
  .meta({ id: "EvaluationQuestionResults" });

export const evaluationSchema = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    templateId: z.uuid(),
    term: z.string(),
    status: z.enum(["scheduled", "open", "closed"]),
    opensAt: iso,
    closesAt: iso,
    openedAt: iso.nullable(),
    remindedAt: iso.nullable(),
    closedAt: iso.nullable(),
    questions: z.array(storedQuestionSchema),
    responseCount: z.number().int().nullable().meta({ description: "Staff: how many answered; null for learners" }),
    answered: z.boolean().nullable().meta({ description: "Learners: whether you answered; null for staff" }),
  })
  .meta({ id: "CourseEvaluation" });

