import { type Item, type ItemDifficulty, type ItemKey, itemDifficulties, itemSchema, tagSchema } from "../../db/schema/assessment-json.js";
import { fail, ok, type Result } from "../../shared/result.js";
import { zodIssueLines } from "../../shared/zod-issues.js";
import type { NewBankItem } from "../bank-items.js";
import { checkedItems } from "../bank-items.js";
import { importedStatus, MAX_TRANSFER_ITEMS } from "../bank-format.js";
import { child, childrenNamed, descendants, elements, parseXml, textOf, type XmlNode, type XmlProblem } from "./xml-tree.js";

/**
 * QTI 3.0 and 2.1 items read into Ringlet items: the reverse of qti-export.ts, and lenient with foreign items (a plain
 * choice or text-entry item from another tool). Unsupported interactions, items with several interactions and
 * auto-scored items without a correct response are refused with the file named; every item goes through
 * `itemProblems` (all or nothing).
 */

export type QtiImportProblem = XmlProblem | "INVALID_ITEM";

type Read<T> = Result<T, "QTI_INVALID">;
const invalid = (file: string, problem: string) => fail("QTI_INVALID", `${file}: ${problem}`, { file });

const INTERACTIONS = new Set(["choiceInteraction", "textEntryInteraction", "extendedTextInteraction", "uploadInteraction"]);

const values = (node: XmlNode | undefined): string[] => (node ? childrenNamed(node, "value").map(textOf) : []);
const number = (s: string | undefined): number | undefined => {
  if (s === undefined || s.trim() === "") return undefined;
  const n = Number(s.trim());
  return Number.isFinite(n) ? n : undefined;
};

function pointsOf(root: XmlNode): number {
  const max = childrenNamed(root, "outcomeDeclaration").find((o) => o.attrs.identifier === "MAXSCORE");
  const declared = number(values(max && child(max, "defaultValue"))[0]);
  return declared !== undefined && declared > 0 ? declared : 1;
}

/** The prompt: the interaction's own prompt, else the paragraph marked as the prompt, else the body's text outside interactions. */
function promptOf(body: XmlNode, interaction: XmlNode): string {
  const own = child(interaction, "prompt");
  if (own) return textOf(own);
  const marked = descendants(body).find((n) => n.attrs["data-ringlet-prompt"] === "true");
  if (marked) return textOf(marked);
  const outside = (n: XmlNode): string => n.children.map((c) => (typeof c === "string" ? c : INTERACTIONS.has(c.name) ? "" : outside(c))).join("");
  return outside(body).replace(/[ \t]+/g, " ").replace(/\s*\n\s*/g, "\n").trim();
}

interface Rules {
  tolerance?: number;
  range?: { min: number; max: number };
  pattern?: string;
}

/**
 * What the response processing says beyond a template: tolerance, range or pattern on RESPONSE. What Ringlet cannot
 * score the same way is refused (a string naming why): a relative or asymmetric tolerance, and a foreign
 * patternMatch (an XSD expression matched with case; Ringlet's own carry `data-ringlet-pattern`).
 */
function rulesOf(root: XmlNode): Rules | string {
  const processing = child(root, "responseProcessing");
  if (!processing) return {};
  const nodes = descendants(processing);
  const rules: Rules = {};
  const equals = nodes.filter((n) => n.name === "equal" && (n.attrs.toleranceMode ?? "exact") !== "exact");
  const equal = equals[0];
  if (equal) {
    if (equal.attrs.toleranceMode !== "absolute") return `a ${equal.attrs.toleranceMode ?? ""} tolerance is not supported (absolute is)`;
    const [low, high = low] = (equal.attrs.tolerance ?? "").trim().split(/\s+/).map(number);
    if (low === undefined || low !== high) return "a tolerance must be one number, the same below and above";
    rules.tolerance = low;
  }
  const bound = (name: string) => {
    const node = nodes.find((n) => n.name === name);
    const base = node && elements(node).find((c) => c.name === "baseValue");
    return base ? number(textOf(base)) : undefined;
  };
  const min = bound("gte");
  const max = bound("lte");
  if (min !== undefined && max !== undefined) rules.range = { min, max };
  const pattern = nodes.find((n) => n.name === "patternMatch");
  if (pattern) {
    const own = root.attrs["data-ringlet-pattern"];
    if (!own) return "a patternMatch is not supported (an XML Schema expression matched with case: Ringlet's patterns ignore case)";
    rules.pattern = own;
  }
  return rules;
}

function tagsOf(root: XmlNode): string[] {
  const raw = root.attrs["data-ringlet-tags"];
  if (!raw) return [];
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) ? [...new Set(parsed.filter((t): t is string => typeof t === "string" && tagSchema.safeParse(t).success).map((t) => t.trim()))].slice(0, 20) : [];
  } catch {
    return [];
  }
}

const difficultyOf = (root: XmlNode): ItemDifficulty | null => {
  const d = root.attrs["data-ringlet-difficulty"];
  return (itemDifficulties as readonly string[]).includes(d ?? "") ? (d as ItemDifficulty) : null;
};

/** One QTI item document (its root) as a Ringlet item and key. */
export function qtiItem(root: XmlNode, file: string): Read<NewBankItem> {
  if (root.name !== "assessmentItem") return invalid(file, `expected a QTI assessment item, found <${root.name}>`);
  const body = child(root, "itemBody");
  if (!body) return invalid(file, "the item has no item body");
  const interactions = descendants(body).filter((n) => n.name.endsWith("Interaction"));
  if (interactions.length !== 1) return invalid(file, interactions.length ? "an item with several interactions is not supported" : "the item has no interaction");
  const interaction = interactions[0] as XmlNode;
  if (!INTERACTIONS.has(interaction.name)) return invalid(file, `the ${interaction.name} is not supported (choice, text entry, extended text and upload are)`);
  const responseId = interaction.attrs.responseIdentifier ?? "RESPONSE";
  const declaration = childrenNamed(root, "responseDeclaration").find((d) => d.attrs.identifier === responseId);
  if (!declaration) return invalid(file, `no response declaration for ${responseId}`);
  const correct = values(child(declaration, "correctResponse"));
  const mapping = child(declaration, "mapping");
  const mapEntries = mapping ? childrenNamed(mapping, "mapEntry") : [];
  // Ringlet compares accepted answers ignoring case: a case-sensitive entry would score differently.
  if (mapEntries.some((e) => e.attrs.caseSensitive === "true")) return invalid(file, "a case-sensitive mapEntry is not supported (accepted answers are compared ignoring case)");
  const entries = mapEntries.map((e) => ({ key: e.attrs.mapKey ?? "", value: number(e.attrs.mappedValue) ?? 0 }));
  const declaredType = root.attrs["data-ringlet-type"];
  const base = { id: root.attrs.identifier ?? "item", points: pointsOf(root), prompt: promptOf(body, interaction) };
  const rules = rulesOf(root);
  if (typeof rules === "string") return invalid(file, rules);

  let item: unknown;
  let key: ItemKey | null;
  switch (interaction.name) {
    case "choiceInteraction": {
      const choiceNodes = childrenNamed(interaction, "simpleChoice");
      const idOf = new Map(choiceNodes.map((c) => [c.attrs.identifier ?? "", c.attrs["data-ringlet-id"] ?? c.attrs.identifier ?? ""]));
      const choices = choiceNodes.map((c) => ({ id: idOf.get(c.attrs.identifier ?? "") ?? "", text: textOf(c).trim() }));
      const picked = correct.map((c) => idOf.get(c.trim()) ?? c.trim());
      const multiple = declaration.attrs.cardinality === "multiple" || declaration.attrs.cardinality === "ordered";
      if (declaredType === "true-false" && !multiple) {
        if (picked[0] !== "true" && picked[0] !== "false") return invalid(file, "a true-false item's correct response must be true or false");
        item = { ...base, type: "true-false" };
        key = { type: "true-false", correct: picked[0] === "true" };
      } else if (multiple) {
        const named = root.attrs["data-ringlet-partial-credit"];
        const partialCredit =
          named === "all-or-nothing" || named === "per-choice" || named === "right-minus-wrong" ? named : entries.some((e) => e.value < 0) ? "right-minus-wrong" : "all-or-nothing";
        const right = picked.length ? picked : entries.filter((e) => e.value > 0).map((e) => idOf.get(e.key) ?? e.key);
        if (!right.length) return invalid(file, "the choice item has no correct response");
        item = { ...base, type: "multiple", choices, partialCredit };
        key = { type: "multiple", correct: right };
      } else {
        if (!picked[0]) return invalid(file, "the choice item has no correct response");
        item = { ...base, type: "single", choices };
        key = { type: "single", correct: picked[0] };
      }
      break;
    }
    case "textEntryInteraction": {
      const numeric = declaration.attrs.baseType === "float" || declaration.attrs.baseType === "integer";
      if (numeric) {
        item = { ...base, type: "numeric" };
        const exact = number(correct[0]);
        if (rules.range) key = { type: "numeric", mode: "range", ...rules.range };
        else if (rules.tolerance !== undefined && exact !== undefined) key = { type: "numeric", mode: "tolerance", value: exact, tolerance: rules.tolerance };
        else if (exact !== undefined) key = { type: "numeric", mode: "exact", value: exact };
        else return invalid(file, "the numeric item has no correct response");
      } else {
        item = { ...base, type: "short-text" };
        const accepted = [...new Set([...entries.filter((e) => e.value > 0).map((e) => e.key), ...(entries.length ? [] : correct)].filter((a) => a.trim() !== ""))];
        if (rules.pattern) key = { type: "short-text", mode: "pattern", pattern: rules.pattern };
        else if (accepted.length) key = { type: "short-text", mode: "normalized", accepted };
        else return invalid(file, "the text entry item has no correct response");
      }
      break;
    }
    case "extendedTextInteraction":
      item = { ...base, type: "essay" };
      key = null;
      break;
    default:
      item = { ...base, type: "file" };
      key = null;
  }
  const parsed = itemSchema.safeParse(item);
  if (!parsed.success) return invalid(file, zodIssueLines(parsed.error, "item").join("; "));
  // A foreign item's standing is unknown: only what a Ringlet export marks approved arrives approved.
  return ok({ item: parsed.data as Item, key, tags: tagsOf(root), difficulty: difficultyOf(root), status: importedStatus(root.attrs["data-ringlet-status"]) });
}

export interface QtiFile {
  path: string;
  text: string;
}

/**
 * The items of a package's files (or of one item document): the manifest's item resources in its order when there
 * is one, else every XML file that is an item, by path. All or nothing.
 */
export function readQtiFiles(files: QtiFile[]): Result<NewBankItem[], QtiImportProblem> {
  const byPath = new Map(files.map((f) => [f.path, f]));
  let itemFiles: QtiFile[];
  const manifestFile = byPath.get("imsmanifest.xml");
  if (manifestFile) {
    const manifest = parseXml(manifestFile.text, manifestFile.path);
    if (!manifest.ok) return manifest;
    const resources = descendants(manifest.value).filter((n) => n.name === "resource" && /item/i.test(n.attrs.type ?? "") && n.attrs.href);
    itemFiles = [];
    for (const r of resources) {
      const f = byPath.get(r.attrs.href as string);
      if (!f) return invalid("imsmanifest.xml", `the resource ${r.attrs.identifier ?? ""} names ${r.attrs.href ?? ""}, which the package lacks`);
      itemFiles.push(f);
    }
  } else {
    itemFiles = files.filter((f) => f.path.toLowerCase().endsWith(".xml")).sort((a, b) => a.path.localeCompare(b.path));
  }
  if (!itemFiles.length) return invalid("package", "no QTI items found");
  if (itemFiles.length > MAX_TRANSFER_ITEMS) return invalid("package", `more than ${MAX_TRANSFER_ITEMS} items`);
  const items: NewBankItem[] = [];
  for (const f of itemFiles) {
    const root = parseXml(f.text, f.path);
    if (!root.ok) return root;
    const read = qtiItem(root.value, f.path);
    if (!read.ok) return read;
    items.push(read.value);
  }
  return checkedItems(items);
}
