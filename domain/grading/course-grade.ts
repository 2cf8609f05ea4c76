/** One learner's standing on one assessment, for the gradebook. */
export interface AssessmentResult {
  assessmentId: string;
  category: string;
  /** null: not graded yet. */
  percent: number | null;
  excused: boolean;
  /** Counted even where the category drops its lowest results (the attendance rate is not an assessment to drop). */
  neverDropped?: boolean;
}

export interface Category {
  name: string;
  weightPercent: number;
  dropLowest: number;
}

export interface CategoryStanding {
  name: string;
  weightPercent: number;
  /** Mean of the counted results, or null when nothing counts yet. */
  percent: number | null;
  counted: string[];
  dropped: string[];
}

export interface CourseGrade {
  /** Weighted over the categories that have a counted result, rescaled to their total weight. */
  percent: number | null;
  categories: CategoryStanding[];
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * The course grade: per category the mean of graded, non-excused results after dropping the lowest N,
 * weighted by category. Categories without a configured weight share what weight is left equally.
 */
export function courseGrade(results: AssessmentResult[], categories: Category[]): CourseGrade {
  const names = [...new Set([...categories.map((c) => c.name), ...results.map((r) => r.category)])].sort();
  const configured = new Map(categories.map((c) => [c.name, c]));
  const unconfigured = names.filter((n) => !configured.has(n));
  const leftover = Math.max(0, 100 - categories.reduce((s, c) => s + c.weightPercent, 0));
  const standings: CategoryStanding[] = names.map((name) => {
    const c = configured.get(name) ?? { name, weightPercent: unconfigured.length ? leftover / unconfigured.length : 0, dropLowest: 0 };
    const graded = results.filter((r) => r.category === name && !r.excused && r.percent !== null).sort((a, b) => (a.percent as number) - (b.percent as number));
    // Never drop every result: at least one counts (one never dropped counts anyway).
    const droppable = graded.filter((r) => !r.neverDropped);
    const drop = Math.min(c.dropLowest, droppable.length < graded.length ? droppable.length : Math.max(0, graded.length - 1));
    const dropped = new Set(droppable.slice(0, drop));
    const counted = graded.filter((r) => !dropped.has(r));
    return {
      name,
      weightPercent: round2(c.weightPercent),
      percent: counted.length ? round2(counted.reduce((s, r) => s + (r.percent as number), 0) / counted.length) : null,
      counted: counted.map((r) => r.assessmentId),
      dropped: droppable.slice(0, drop).map((r) => r.assessmentId),
    };
  });
  const withResults = standings.filter((s) => s.percent !== null && s.weightPercent > 0);
  const weight = withResults.reduce((s, c) => s + c.weightPercent, 0);
  const percent = weight > 0 ? round2(withResults.reduce((s, c) => s + (c.percent as number) * c.weightPercent, 0) / weight) : null;
  return { percent, categories: standings };
}
