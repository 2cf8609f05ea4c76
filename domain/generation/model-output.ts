import { z } from "zod";
import { type Item, type ItemKey, itemDifficulties, itemSchema, keySchema } from "../db/schema/assessment-json.js";
import type { NewBankItem } from "../banks/bank-items.js";
import { itemProblems, storableText } from "../grading/item-checks.js";
import { zodIssueLines } from "../shared/zod-issues.js";

/** An item the model gave that was not stored, and why (kept on the job). `index` counts the job's items from 0. */
export interface DiscardedItem {
  index: number;
  reason: string;
}

/** What the model is asked to answer: items as hand-written ones are (item and key), with a difficulty. */
const answerSchema = z.object({
  items: z.array(z.object({ item: itemSchema, key: keySchema.nullable(), difficulty: z.enum(itemDifficulties) })),
});

// Strict structured output takes a subset of JSON Schema: every property required, no additional ones, anyOf (not
// oneOf), no defaults and no size or range keywords. The bounds are not lost: the answer is parsed with the full
// schemas below, which is where a wrong item is told apart (and discarded with its reason).
const droppedKeywords = new Set(["$schema", "default", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems", "pattern", "format"]);

function strictCompatible(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictCompatible);
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (droppedKeywords.has(key)) continue;
    if (key === "oneOf") out.anyOf = strictCompatible(value);
    else if (key === "const") out.enum = [value];
    else out[key] = strictCompatible(value);
  }
  if (out.type === "object" && typeof out.properties === "object" && out.properties !== null) {
    out.required = Object.keys(out.properties);
    out.additionalProperties = false;
  }
  return out;
}

/** The answer's JSON schema for the model, narrowed to the item types asked for. */
export function answerJsonSchema(types: readonly Item["type"][]): Record<string, unknown> {
  const schema = strictCompatible(z.toJSONSchema(answerSchema, { io: "output" })) as { properties: { items: { items: { properties: { item: { anyOf: { properties: { type: { enum: string[] } } }[] } } } } } };
  const item = schema.properties.items.items.properties.item;
  item.anyOf = item.anyOf.filter((variant) => types.includes(variant.properties.type.enum[0] as Item["type"]));
  return schema as unknown as Record<string, unknown>;
}

export type CheckedAnswer =
  | { kind: "not-json"; reason: string }
  | { kind: "items"; valid: (NewBankItem & { index: number })[]; discarded: DiscardedItem[]; given: number };

const entrySchema = z.strictObject({ item: z.unknown(), key: z.unknown(), difficulty: z.enum(itemDifficulties).nullable() });
const envelopeSchema = z.object({ items: z.array(z.unknown()).max(200) });

const issues = (error: z.ZodError): string => zodIssueLines(error, "(root)").join("; ");

/** Fields the raw value has that the parsed one dropped (zod's objects strip them silently). */
function extraFields(raw: unknown, parsed: object): string[] {
  if (typeof raw !== "object" || raw === null) return [];
  const extra = Object.keys(raw).filter((k) => !(k in parsed));
  if ("choices" in raw && Array.isArray(raw.choices)) {
    raw.choices.forEach((c: unknown, i) => {
      if (typeof c === "object" && c !== null) for (const k of Object.keys(c)) if (k !== "id" && k !== "text") extra.push(`choices.${i}.${k}`);
    });
  }
  return extra;
}

/**
 * Checks one model answer: JSON in the answer's shape, then each item with the SAME schemas and checks as a
 * hand-written one (itemSchema, keySchema, itemProblems), of a type that was asked for, with no field the schemas do
 * not know. Good items come back ready for insertBankItems; the others are discarded with their reason.
 * `firstIndex` numbers this answer's items within the job.
 */
export function checkModelAnswer(content: string, types: readonly Item["type"][], firstIndex: number): CheckedAnswer {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    return { kind: "not-json", reason: "the model's answer is not JSON" };
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) return { kind: "not-json", reason: `the model's answer is not in the requested shape: ${issues(envelope.error)}` };
  const valid: (NewBankItem & { index: number })[] = [];
  const discarded: DiscardedItem[] = [];
  envelope.data.items.forEach((raw, i) => {
    const index = firstIndex + i;
    const reason = problemsOf(raw, types);
    // A reason may quote the model's field names; cut first, then made storable (a cut may split a surrogate pair).
    if (typeof reason === "string") discarded.push({ index, reason: storableText(reason.slice(0, 2000)) });
    else valid.push({ ...reason, index });
  });
  return { kind: "items", valid, discarded, given: envelope.data.items.length };
}

function problemsOf(raw: unknown, types: readonly Item["type"][]): string | NewBankItem {
  const entry = entrySchema.safeParse(raw);
  if (!entry.success) return `not an item entry: ${issues(entry.error)}`;
  const item = itemSchema.safeParse(entry.data.item);
  if (!item.success) return `the item is not valid: ${issues(item.error)}`;
  if (!types.includes(item.data.type)) return `a ${item.data.type} item was not asked for (asked: ${types.join(", ")})`;
  const itemExtra = extraFields(entry.data.item, item.data);
  if (itemExtra.length) return `the item has fields items do not have: ${itemExtra.join(", ")}`;
  let key: ItemKey | null = null;
  if (entry.data.key !== null) {
    const parsedKey = keySchema.safeParse(entry.data.key);
    if (!parsedKey.success) return `the key is not valid: ${issues(parsedKey.error)}`;
    const keyExtra = extraFields(entry.data.key, parsedKey.data);
    if (keyExtra.length) return `the key has fields keys do not have: ${keyExtra.join(", ")}`;
    key = parsedKey.data;
  }
  const problems = itemProblems(item.data, key);
  if (problems.length) return problems.join("; ");
  return { item: item.data, key, tags: [], difficulty: entry.data.difficulty };
}
