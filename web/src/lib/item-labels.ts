import type { components } from "../api/schema";
import { everyOf } from "./every-of";

export type ItemType = NonNullable<components["schemas"]["Attempt"]["items"]>[number]["type"];
export type AssessmentKind = components["schemas"]["Assessment"]["kind"];

/** An assessment item's type in words, the same for the instructor's editor and the learner's pages. */
export const itemTypeLabels: Record<ItemType, string> = {
  single: "Single choice",
  multiple: "Multiple choice",
  "true-false": "True or false",
  numeric: "Number",
  "short-text": "Short answer",
  essay: "Essay",
  file: "File upload",
};

/** The item types in the editor's order (every one, checked at compile time). */
export const itemTypeOrder = everyOf<ItemType>()(["single", "multiple", "true-false", "numeric", "short-text", "essay", "file"]);

const kindLabels: Record<AssessmentKind, string> = { quiz: "Quiz", assignment: "Assignment" };

/** An assessment's kind in words. */
export function assessmentKindLabel(kind: AssessmentKind): string {
  return kindLabels[kind];
}
