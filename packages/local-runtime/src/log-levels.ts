// host.json `logging.logLevel`: which log categories are written at which level, chosen as the host's
// logger filter (Microsoft.Extensions.Logging's rule selector) chooses: among the rules whose category is a
// prefix of the log's category (case-insensitive, one `*` wildcard allowed), the longest wins; `default`
// applies when none matches; with no rule at all the level is Information.
//
// Categories the runtime writes under, as the host does: `Function.<FunctionName>` for the
// "Executing"/"Executed" lines (Information; a failure is Error), `Function.<FunctionName>.User` for what the
// function logs through its context. `Host.Results` and `Host.Aggregator` feed telemetry the local runtime
// does not produce, so their levels change nothing here.

export const logLevels = ["trace", "debug", "information", "warning", "error", "critical", "none"] as const;
/** Ordered as Microsoft.Extensions.Logging.LogLevel: Trace = 0 ... None = 6. */
export type LogLevel = (typeof logLevels)[number];

export function logLevelRank(level: LogLevel): number {
  return logLevels.indexOf(level);
}

interface Rule {
  prefix: string;
  suffix: string;
  /** Length of the rule's category as written (wildcard included, as the host counts it): longer is more specific. */
  specificity: number;
  minimum: number;
}

export class LogLevelFilter {
  readonly #rules: Rule[];
  readonly #default: number;
  readonly #cache = new Map<string, number>();

  /** `rules` is host.json's `logging.logLevel` object (category → level name); unknown level names are reported through `warn` and skipped. */
  constructor(rules: Record<string, unknown> = {}, warn: (message: string) => void = () => undefined) {
    const parsed: Rule[] = [];
    let fallback = logLevelRank("information");
    for (const [category, value] of Object.entries(rules)) {
      const level = typeof value === "string" ? (value.toLowerCase() as LogLevel) : undefined;
      const rank = level ? logLevels.indexOf(level) : -1;
      if (rank < 0) {
        warn(`host.json logging.logLevel.${category}: "${String(value)}" is not a log level (${logLevels.join(", ")}); ignored.`);
        continue;
      }
      if (category.toLowerCase() === "default") {
        fallback = rank;
        continue;
      }
      const star = category.indexOf("*");
      const prefix = (star < 0 ? category : category.slice(0, star)).toLowerCase();
      const suffix = star < 0 ? "" : category.slice(star + 1).toLowerCase();
      parsed.push({ prefix, suffix, specificity: category.length, minimum: rank });
    }
    this.#rules = parsed;
    this.#default = fallback;
  }

  /** The lowest level written for `category` (rank; `none` = 6 writes nothing). */
  minimum(category: string): number {
    let minimum = this.#cache.get(category);
    if (minimum === undefined) {
      minimum = this.#select(category.toLowerCase());
      this.#cache.set(category, minimum);
    }
    return minimum;
  }

  enabled(category: string, level: LogLevel): boolean {
    const rank = logLevelRank(level);
    return rank < logLevelRank("none") && rank >= this.minimum(category);
  }

  #select(category: string): number {
    let best: Rule | undefined;
    for (const rule of this.#rules) {
      if (!category.startsWith(rule.prefix) || !category.endsWith(rule.suffix)) continue;
      // "a*a" must not match "a": the prefix and the suffix may not overlap.
      if (category.length < rule.prefix.length + rule.suffix.length) continue;
      // Later rules of equal specificity win, as later configuration does in the host.
      if (!best || rule.specificity >= best.specificity) best = rule;
    }
    return best ? best.minimum : this.#default;
  }
}
