import type { Item } from "../db/schema/assessment-json.js";
import type { ModelRequest } from "./question-model.js";
import { answerJsonSchema } from "./model-output.js";

/** The most source text one call carries (characters); a longer source is cut, and the prompt says so. */
export const SOURCE_CHAR_BUDGET = 24_000;

/** Items asked for per model call: a job of more is several calls, and its progress moves with each. */
export const ITEMS_PER_CALL = 5;

const SYSTEM = [
  "You write assessment items for a course, from the source text the user gives, in the user's language.",
  "Answer only with JSON in the given schema. Every item needs an answer key that fits it: single and multiple",
  "items name their correct choice ids; choices are distinct; numeric keys are finite and a tolerance is smaller",
  "than the value; essay and file items take the key null. Points are 1 unless the item is clearly larger.",
].join(" ");

/**
 * The request for `count` items of `types` from `source`. The user message's first line is machine-readable
 * (`generate count=<n> types=<a,b>`): the local stand-in reads it, and a person reading a trace sees the ask at once.
 */
export function generationRequest(count: number, types: readonly Item["type"][], source: string): ModelRequest {
  const cut = source.length > SOURCE_CHAR_BUDGET;
  const text = cut ? source.slice(0, SOURCE_CHAR_BUDGET) : source;
  const user = [
    `generate count=${count} types=${types.join(",")}`,
    `Write exactly ${count} items, of these types only: ${types.join(", ")}.`,
    cut ? `The source was cut to its first ${SOURCE_CHAR_BUDGET} of ${source.length} characters; use only what is given.` : "The source follows in full.",
    "<source>",
    text,
    "</source>",
  ].join("\n");
  return { system: SYSTEM, user, schema: { name: "generated_items", schema: answerJsonSchema(types) } };
}
