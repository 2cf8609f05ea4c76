import { doublePrecision, integer, jsonb, pgTable, primaryKey, real, text, uuid } from "drizzle-orm/pg-core";
import { assessments, attempts } from "./assessments.js";
import { belongsTo, tstz } from "./columns.js";

/**
 * Classical test theory sums per (assessment, item, item version), kept incrementally by the item-analysis
 * subscription: every figure (facility, point-biserial against the rest score, variance for alpha, mean time) is
 * derived from them at read time. Scores are in points; the rest score is the submission's raw points without the
 * item's. Sums are double precision: sums of squares over tens of thousands of grades lose too much in float4. Fixed items are version 1; drawn bank items carry their bank version.
 */
export const itemStats = pgTable(
  "item_stats",
  {
    assessmentId: belongsTo("assessment_id", () => assessments.id),
    itemId: text("item_id").notNull(),
    itemVersion: integer("item_version").notNull(),
    itemType: text("item_type").notNull(),
    // the newest grade's points for the version (shown); facility divides by sumMax, as a version can be drawn at different points
    maxPoints: real("max_points").notNull(),
    n: integer("n").notNull().default(0),
    sumMax: doublePrecision("sum_max").notNull().default(0),
    sumScore: doublePrecision("sum_score").notNull().default(0),
    sumScoreSq: doublePrecision("sum_score_sq").notNull().default(0),
    sumRest: doublePrecision("sum_rest").notNull().default(0),
    sumRestSq: doublePrecision("sum_rest_sq").notNull().default(0),
    sumScoreRest: doublePrecision("sum_score_rest").notNull().default(0),
    timeN: integer("time_n").notNull().default(0),
    timeSum: doublePrecision("time_sum").notNull().default(0),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.assessmentId, t.itemId, t.itemVersion] })],
);

/** How often each choice of a choice item's version was picked (distractor analysis). */
export const itemChoiceCounts = pgTable(
  "item_choice_counts",
  {
    assessmentId: belongsTo("assessment_id", () => assessments.id),
    itemId: text("item_id").notNull(),
    itemVersion: integer("item_version").notNull(),
    choiceId: text("choice_id").notNull(),
    picks: integer("picks").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.assessmentId, t.itemId, t.itemVersion, t.choiceId] })],
);

/** Per assessment: the submissions counted and their total raw points' sums (alpha's total variance). */
export const assessmentStats = pgTable("assessment_stats", {
  assessmentId: belongsTo("assessment_id", () => assessments.id).primaryKey(),
  n: integer("n").notNull().default(0),
  sumTotal: doublePrecision("sum_total").notNull().default(0),
  sumTotalSq: doublePrecision("sum_total_sq").notNull().default(0),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});

export interface ItemContribution {
  itemId: string;
  itemVersion: number;
  itemType: string;
  maxPoints: number;
  score: number;
  rest: number;
  seconds: number | null;
  choices: string[];
}

/**
 * What each submission's newest counted grade added to the sums: a later grade version (a regrade) takes the old
 * contribution out and puts its own in; the same or an older version changes nothing (exactly once per grade).
 */
export const itemAnalysisContributions = pgTable("item_analysis_contributions", {
  submissionId: belongsTo("submission_id", () => attempts.id).primaryKey(),
  assessmentId: uuid("assessment_id").notNull(),
  gradeId: uuid("grade_id").notNull(),
  gradeVersion: integer("grade_version").notNull(),
  // double like the sums it is taken out of: a float4-rounded total would leave drift behind at every regrade
  total: doublePrecision("total").notNull(),
  items: jsonb("items").$type<ItemContribution[]>().notNull(),
  appliedAt: tstz("applied_at").notNull().defaultNow(),
});
