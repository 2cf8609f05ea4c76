/** One piece of personal text and what stands in for it. */
export interface Replacement {
  find: string;
  replaceWith: string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// Whole words only (no letter or digit on either side), case-insensitively (emails are typed in any case): a short
// display name must not rewrite the middle of an unrelated word.
const patternOf = (find: string) => new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(find)}(?![\\p{L}\\p{N}])`, "giu");

/** Replaces every occurrence of each `find` in a string; the longest first, so a name inside the email goes with it. */
export function scrubText(text: string, replacements: readonly Replacement[]): string {
  let out = text;
  const longestFirst = [...replacements].sort((a, b) => b.find.length - a.find.length);
  for (const r of longestFirst) if (r.find.length > 0) out = out.replace(patternOf(r.find), () => r.replaceWith);
  return out;
}

/**
 * The same for every string value inside a JSON value, leaving its structure and property names alone: replacing
 * inside the serialised text could break the JSON or rename a property that happens to match.
 */
export function scrubJson<T>(value: T, replacements: readonly Replacement[]): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return scrubText(v, replacements);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** A `like`/`ilike` pattern that finds the text anywhere (its wildcards escaped). */
export const containing = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
