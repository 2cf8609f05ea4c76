import { z } from "zod";
import { itemAnalysisReport } from "../../domain/item-analysis/item-analysis-report.js";
import { itemFlagKinds } from "../../domain/item-analysis/statistics.js";
import { courseStaff } from "../platform/http/access.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { assessmentCourse } from "./locators.js";

const figure = (description: string) => z.number().nullable().meta({ description });

const itemFiguresSchema = z.object({
  itemId: z.string(),
  itemVersion: z.number().int().meta({ description: "The bank version for drawn items; 1 for the assessment's fixed items" }),
  origin: z.enum(["assessment", "bank"]),
  type: z.string(),
  prompt: z.string().nullable().meta({ description: "An excerpt of the prompt; null when the item is no longer known" }),
  maxPoints: z.number().meta({ description: "The item version's points in its newest counted grade (facility divides by the points each response was worth)" }),
  n: z.number().int().meta({ description: "Counted submissions (learners' first attempts) that answered this item version" }),
  facility: figure("The p-value: points scored / points the responses were worth (null with no responses)"),
  discrimination: figure("Point-biserial correlation of the item score with the rest score (null when either does not vary)"),
  meanSeconds: figure("Mean time spent, from the learners' clients (null when none reported)"),
  choices: z.array(z.object({ id: z.string(), text: z.string(), correct: z.boolean(), picks: z.number().int() })).nullable(),
  flags: z.array(z.enum(itemFlagKinds)).meta({ description: "For review: negative discrimination, p < 0.2, p > 0.95, an unpicked distractor; few-responses is a note" }),
});

route({
  name: "item-analysis-get",
  method: "GET",
  path: "/v1/assessments/{assessmentId}/item-analysis",
  access: courseStaff(["instructor", "grader"], assessmentCourse),
  summary: "Classical test theory statistics of an assessment's items (facility, discrimination, distractors, time) and its alpha",
  description:
    "Kept incrementally from published grades. One attempt per learner counts: their first submitted attempt (the classical choice; repeat takers have seen the items), with its newest grade counted once; a regrade replaces its share, later attempts are not counted (`attemptsCounted: first`).",
  tags: ["grading"],
  params: z.object({ assessmentId: z.uuid() }),
  responses: {
    200: {
      description: "The item analysis",
      body: z.object({
        assessmentId: z.uuid(),
        attemptsCounted: z.literal("first").meta({ description: "Which attempts are counted: each learner's first submitted attempt" }),
        submissions: z.number().int().meta({ description: "Counted submissions: one per learner (their first attempt)" }),
        alpha: figure("Cronbach's alpha (null when it does not apply; see alphaReason)"),
        alphaReason: z.string().nullable(),
        items: z.array(itemFiguresSchema),
      }),
    },
    404: { description: "`NOT_FOUND` or `ASSESSMENT_NOT_FOUND`: no such assessment" },
  },
  handler: async ({ params }, ctx) => ({ status: 200, body: unwrap(await itemAnalysisReport(ctx.db, params.assessmentId)), headers: { "cache-control": "no-store" } }),
});
