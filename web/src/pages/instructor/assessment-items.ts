import type { paths } from "../../api/schema";
import { itemTypeLabels, itemTypeOrder } from "../../lib/item-labels";

type CreateBody = NonNullable<paths["/v1/courses/{courseId}/assessments"]["post"]["requestBody"]>["content"]["application/json"];
export type ItemInput = NonNullable<CreateBody["items"]>[number];
export type KeyInput = NonNullable<CreateBody["keys"]>[string];
export type ItemType = ItemInput["type"];
export type LatePolicy = NonNullable<CreateBody["latePolicy"]>;

/** The editor's type choices: the shared words (learners see the same), and which ones a grader scores by hand. */
export const itemTypes: { value: ItemType; label: string }[] = itemTypeOrder.map((value) => ({
  value,
  label: value === "essay" || value === "file" ? `${itemTypeLabels[value]} (graded by hand)` : itemTypeLabels[value],
}));

/** One item as the form edits it: every type's fields, of which the chosen type's are sent. */
export interface ItemDraft {
  type: ItemType;
  prompt: string;
  points: number;
  choices: string[];
  /** Indexes of the correct choices (one for single choice). */
  correct: number[];
  partialCredit: "all-or-nothing" | "per-choice" | "right-minus-wrong";
  trueFalse: boolean;
  number: string;
  tolerance: string;
  /** Accepted short answers, one a line. */
  accepted: string;
}

export function newItem(type: ItemType = "single"): ItemDraft {
  return { type, prompt: "", points: 1, choices: ["", ""], correct: [0], partialCredit: "all-or-nothing", trueFalse: true, number: "", tolerance: "", accepted: "" };
}

const choiceId = (i: number) => String.fromCharCode(97 + i);

/** The items and answer keys the API takes, from the drafts; item ids are q1, q2… and choice ids a, b… */
export function toItemsAndKeys(drafts: ItemDraft[]): { items: ItemInput[]; keys: Record<string, KeyInput> } {
  const items: ItemInput[] = [];
  const keys: Record<string, KeyInput> = {};
  drafts.forEach((d, n) => {
    const id = `q${n + 1}`;
    const base = { id, points: d.points, prompt: d.prompt };
    const choices = d.choices.map((text, i) => ({ id: choiceId(i), text }));
    switch (d.type) {
      case "single":
        items.push({ ...base, type: "single", choices });
        keys[id] = { type: "single", correct: choiceId(d.correct[0] ?? 0) };
        break;
      case "multiple":
        items.push({ ...base, type: "multiple", choices, partialCredit: d.partialCredit });
        keys[id] = { type: "multiple", correct: d.correct.map(choiceId) };
        break;
      case "true-false":
        items.push({ ...base, type: "true-false" });
        keys[id] = { type: "true-false", correct: d.trueFalse };
        break;
      case "numeric": {
        items.push({ ...base, type: "numeric" });
        const value = Number(d.number);
        keys[id] = d.tolerance.trim() ? { type: "numeric", mode: "tolerance", value, tolerance: Number(d.tolerance) } : { type: "numeric", mode: "exact", value };
        break;
      }
      case "short-text":
        items.push({ ...base, type: "short-text" });
        keys[id] = {
          type: "short-text",
          mode: "normalized",
          accepted: d.accepted
            .split("\n")
            .map((a) => a.trim())
            .filter(Boolean),
        };
        break;
      case "essay":
      case "file":
        items.push({ ...base, type: d.type });
        break;
    }
  });
  return { items, keys };
}
