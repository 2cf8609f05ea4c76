import type { Item, ItemKey } from "../db/schema/assessment-json.js";
import { isManual } from "./items.js";
import { normalizeText } from "./score-items.js";

/**
 * What is wrong with one item and its key, each named (empty: nothing). The one check for every item wherever it
 * comes from: an assessment's own items, a bank item, an imported (QTI, JSON) or a generated one.
 */
export function itemProblems(item: Item, key: ItemKey | null | undefined): string[] {
  const problems: string[] = [];
  // The id is named as a storable string: the problems are stored (a generated item's discard reason).
  const at = (p: string) => problems.push(`${storableText(item.id)}: ${p}`);
  if (!storable(item) || !storable(key)) at("its text contains NUL characters or unpaired surrogates, which cannot be stored");
  if ("choices" in item) {
    const ids = item.choices.map((c) => c.id);
    if (new Set(ids).size !== ids.length) at("choice ids repeat");
    const texts = item.choices.map((c) => normalizeText(c.text));
    if (new Set(texts).size !== texts.length) at("two choices say the same thing");
  }
  if (isManual(item)) {
    if (key) at(`${item.type} items are graded by a person and take no key`);
    return problems;
  }
  if (!key || key.type !== item.type) {
    at(`needs a ${item.type} key`);
    return problems;
  }
  const choiceIds = "choices" in item ? new Set(item.choices.map((c) => c.id)) : new Set<string>();
  if (key.type === "single" && !choiceIds.has(key.correct)) at("the key names no choice of the item");
  if (key.type === "multiple") {
    if (!key.correct.every((c) => choiceIds.has(c))) at("the key names choices the item lacks");
    if (new Set(key.correct).size !== key.correct.length) at("the key names a choice twice");
  }
  if (key.type === "numeric") {
    const numbers = key.mode === "exact" ? [key.value] : key.mode === "range" ? [key.min, key.max] : [key.value, key.tolerance];
    if (!numbers.every(Number.isFinite)) at("the key's numbers must be finite");
    else if (key.mode === "range" && key.min > key.max) at("range min is above max");
    // A tolerance as wide as the value accepts 0 (or the opposite sign): a key nobody meant.
    else if (key.mode === "tolerance" && key.value !== 0 && key.tolerance >= Math.abs(key.value)) at("the tolerance is not smaller than the value");
  }
  if (key.type === "short-text" && key.mode === "pattern") {
    try {
      new RegExp(key.pattern, "u");
    } catch {
      at("the pattern is not a valid regular expression");
    }
  }
  return problems;
}

// PostgreSQL's text and jsonb refuse U+0000, and a lone UTF-16 surrogate has no UTF-8 form. In a `u` regex a
// well-formed pair is one code point, so only lone ones match.
const UNSTORABLE = /\0|\p{Cs}/u;
const UNSTORABLE_ALL = /\0|\p{Cs}/gu;

/** Every string (and field name) of a JSON value can be stored. Items are shallow, so recursion is fine. */
function storable(value: unknown): boolean {
  if (typeof value === "string") return !UNSTORABLE.test(value);
  if (typeof value !== "object" || value === null) return true;
  return Object.entries(value).every(([k, v]) => !UNSTORABLE.test(k) && storable(v));
}

/** A text with what cannot be stored replaced by U+FFFD (for messages that quote input, which are stored). */
export const storableText = (text: string): string => text.replace(UNSTORABLE_ALL, "\uFFFD");
