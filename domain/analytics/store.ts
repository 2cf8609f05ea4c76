import type { LearnerRecord } from "./learner-record.js";
import { dayOf } from "../shared/day.js";

/** Figures for one course and UTC day, written by the nightly rollup. */
export interface DayRollup {
  courseId: string;
  /** YYYY-MM-DD, UTC. */
  date: string;
  /** Distinct learners with any recorded activity in the course that day. */
  activeLearners: number;
  rolledUpAt: string;
}

/**
 * Where the per-course analytics read models live (Cosmos DB, partitioned by course): one record per
 * learner, one marker per (learner, day) with activity, and the day rollups.
 */
export interface AnalyticsStore {
  /** Read-modify-write of one learner's record; `change` may run more than once (optimistic concurrency). */
  updateLearner(courseId: string, learnerId: string, change: (r: LearnerRecord) => LearnerRecord): Promise<void>;
  learners(courseId: string): Promise<LearnerRecord[]>;
  /** Marks the learner active in the course on each date (idempotent). */
  markActive(courseId: string, learnerId: string, dates: readonly string[]): Promise<void>;
  /** True when this store already wrote that marker (a per-instance memory: false says nothing). */
  wasMarked(courseId: string, learnerId: string, date: string): boolean;
  /** The (learner, date) markers of the course within [from, to]. */
  activeMarkers(courseId: string, from: string, to: string): Promise<{ learnerId: string; date: string }[]>;
  countActive(courseId: string, date: string): Promise<number>;
  rollups(courseId: string, from: string, to: string): Promise<DayRollup[]>;
  putRollup(rollup: DayRollup): Promise<void>;
}

// dayOf moved to domain/shared (finance documents use it too); re-exported for the analytics modules.
export { dayOf };

/** The date `days` after (or before, when negative) a YYYY-MM-DD date. */
export const addDays = (date: string, days: number): string => dayOf(new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000));

/** Every date from `from` to `to`, inclusive. */
export function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let date = from; date <= to; date = addDays(date, 1)) out.push(date);
  return out;
}
