import { and, eq, gt } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import type { Item, ItemKey } from "../db/schema/assessment-json.js";
import { assessmentStats, itemChoiceCounts, itemStats } from "../db/schema/index.js";
import { versionKey } from "../assessment/draw.js";
import { currentKeys, findAssessment } from "../assessment/manage-assessment.js";
import { bankVersions } from "../assessment/pools.js";
import { fail, ok, type Result } from "../shared/result.js";
import { UUID_PATTERN } from "../shared/uuid.js";
import { FIRST_ATTEMPT } from "./apply-grades.js";
import { cronbachAlpha, discrimination, facility, type ItemFlag, itemFlags, meanSeconds } from "./statistics.js";

export interface ChoiceFigures {
  id: string;
  text: string;
  correct: boolean;
  picks: number;
}

export interface ItemFigures {
  itemId: string;
  itemVersion: number;
  /** Where the item's text comes from: the assessment's fixed items, or the bank version a pool drew. */
  origin: "assessment" | "bank";
  type: string;
  prompt: string | null;
  maxPoints: number;
  n: number;
  facility: number | null;
  discrimination: number | null;
  meanSeconds: number | null;
  /** Single, multiple and true-false items; null for the others. */
  choices: ChoiceFigures[] | null;
  flags: ItemFlag[];
}

export interface ItemAnalysisReport {
  assessmentId: string;
  /** Which of a learner's attempts are counted: their first submitted one (FIRST_ATTEMPT). */
  attemptsCounted: typeof FIRST_ATTEMPT;
  submissions: number;
  alpha: number | null;
  alphaReason: string | null;
  items: ItemFigures[];
}

const EXCERPT = 200;

const promptExcerpt = (prompt: string): string => {
  const flat = prompt.replace(/\s+/g, " ").trim();
  return flat.length > EXCERPT ? `${flat.slice(0, EXCERPT - 1)}…` : flat;
};

function isCorrect(key: ItemKey | null | undefined, choiceId: string): boolean {
  if (!key) return false;
  if (key.type === "single") return key.correct === choiceId;
  if (key.type === "multiple") return key.correct.includes(choiceId);
  if (key.type === "true-false") return String(key.correct) === choiceId;
  return false;
}

/** The choices an item offers as the analysis counts them (true-false as "true" and "false"); null for other types. */
function choicesOf(item: Item | null, type: string): { id: string; text: string }[] | null {
  if (type === "true-false") return [{ id: "true", text: "True" }, { id: "false", text: "False" }];
  if (type !== "single" && type !== "multiple") return null;
  return item && (item.type === "single" || item.type === "multiple") ? item.choices : [];
}

/**
 * The item analysis of an assessment, from the sums the item-analysis subscription keeps: per item version its
 * facility, discrimination, distractor picks, mean time and flags; alpha for the whole (or why not). Correctness
 * of a choice comes from that version's key: the assessment's current key for fixed items, the bank version's own
 * for drawn ones.
 */
export async function itemAnalysisReport(db: Executor, assessmentId: string): Promise<Result<ItemAnalysisReport, "ASSESSMENT_NOT_FOUND">> {
  const assessment = await findAssessment(db, assessmentId);
  if (!assessment) return fail("ASSESSMENT_NOT_FOUND", "No such assessment.");
  const [stats, counts, [total], keys] = await Promise.all([
    db.select().from(itemStats).where(and(eq(itemStats.assessmentId, assessmentId), gt(itemStats.n, 0))),
    db.select().from(itemChoiceCounts).where(and(eq(itemChoiceCounts.assessmentId, assessmentId), gt(itemChoiceCounts.picks, 0))),
    db.select().from(assessmentStats).where(eq(assessmentStats.assessmentId, assessmentId)),
    currentKeys(db, assessment),
  ]);
  const fixed = new Map(assessment.items.map((item, index) => [item.id, { item, index }]));
  // Drawn items carry their bank item's id; an id that is no uuid is a fixed item since removed from the assessment.
  const drawn = stats.filter((s) => !fixed.has(s.itemId) && UUID_PATTERN.test(s.itemId));
  const bank = await bankVersions(db, drawn.map((s) => ({ itemId: s.itemId, version: s.itemVersion })));
  const picks = new Map(counts.map((c) => [`${c.itemId}:${c.itemVersion}:${c.choiceId}`, c.picks]));

  const items = stats.map((s): ItemFigures & { order: number } => {
    const own = fixed.get(s.itemId);
    const version = own ? null : bank.get(versionKey({ itemId: s.itemId, version: s.itemVersion }));
    const item = own?.item ?? version?.item ?? null;
    const key = own ? keys[s.itemId] : version?.key;
    const choices = choicesOf(item, s.itemType)?.map((c) => ({ id: c.id, text: c.text, correct: isCorrect(key, c.id), picks: picks.get(`${s.itemId}:${s.itemVersion}:${c.id}`) ?? 0 })) ?? null;
    const figures = { n: s.n, facility: facility(s), discrimination: discrimination(s) };
    // maxPoints shows the newest grade's points; facility divides by what every counted response was worth
    return {
      itemId: s.itemId,
      itemVersion: s.itemVersion,
      origin: own ? "assessment" : "bank",
      type: s.itemType,
      prompt: item ? promptExcerpt(item.prompt) : null,
      maxPoints: s.maxPoints,
      ...figures,
      meanSeconds: meanSeconds(s),
      choices,
      flags: itemFlags({ ...figures, ...(choices ? { choices } : {}) }),
      order: own ? own.index : Number.MAX_SAFE_INTEGER,
    };
  });
  items.sort((a, b) => a.order - b.order || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : a.itemVersion - b.itemVersion));
  const totals = total ?? { n: 0, sumTotal: 0, sumTotalSq: 0 };
  const alpha = cronbachAlpha(stats, totals, assessment.pools.length > 0);
  return ok({ assessmentId, attemptsCounted: FIRST_ATTEMPT, submissions: totals.n, alpha: alpha.alpha, alphaReason: alpha.reason, items: items.map(({ order: _order, ...rest }) => rest) });
}
