import type { Schemas } from "../../api/client";
import { formatPercentValue } from "../../lib/format";

/** An item as an attempt presents it (its own order and choice order). */
export type Item = NonNullable<Schemas["Attempt"]["items"]>[number];

/** What an item's answer may be (the API's answer schema): a choice id, choice ids, a boolean, a number, text or a blob name. */
export type Answer = string | string[] | boolean | number | null;

/** The API sends answers as an open record; keep only values an answer can be. */
export function answersOf(record: Record<string, unknown>): Record<string, Answer> {
  const out: Record<string, Answer> = {};
  for (const [id, value] of Object.entries(record)) {
    if (value === null || typeof value === "string" || typeof value === "boolean" || typeof value === "number") out[id] = value;
    else if (Array.isArray(value)) out[id] = value.filter((v): v is string => typeof v === "string");
  }
  return out;
}


/** An answer in words, for the submission page. */
export function describeAnswer(item: Item, answer: Answer | undefined): string {
  if (answer === undefined || answer === null || answer === "" || (Array.isArray(answer) && answer.length === 0)) return "No answer";
  if (item.type === "single" || item.type === "multiple") {
    const ids = Array.isArray(answer) ? answer : [String(answer)];
    return ids.map((id) => item.choices.find((c) => c.id === id)?.text ?? id).join(", ");
  }
  if (item.type === "true-false") return answer === true ? "True" : "False";
  // The blob is named by the server, not after the learner's file.
  if (item.type === "file") return "A file was uploaded";
  return String(answer);
}


/** A late policy in words. */
export function describeLatePolicy(policy: Schemas["Assessment"]["latePolicy"]): string {
  switch (policy.kind) {
    case "none":
      return "Late work is accepted without a penalty.";
    case "no-late-work":
      return "Late work is not accepted.";
    default:
      return `Late work loses ${policy.percent}% per ${policy.kind === "per-hour" ? "hour" : "day"}${policy.floorPercent != null ? `, keeping at least ${policy.floorPercent}% of the score` : ""}.`;
  }
}

/** A grade's percent (0..100, as the API sends it); null is a grade still waiting for a step. */
export function percentText(percent: number | null | undefined, whenNull = "Pending"): string {
  return formatPercentValue(percent, whenNull);
}
