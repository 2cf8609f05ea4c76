import type { Item, ItemKey } from "../../db/schema/assessment-json.js";
import type { ExportedItem } from "../bank-format.js";
import { buildPlainXml, buildXml, el, type QtiVersion, type XmlNode } from "./xml-tree.js";

/**
 * Ringlet items as QTI items (neutral names; `buildXml` writes them as 3.0 or 2.1). Every type and key mode maps to
 * QTI's own construct where QTI has one: choices to a choice interaction with identifier correct responses,
 * true-false to a two-choice one, numbers to a float text entry (exact: the correct response; tolerance: `equal`
 * with toleranceMode absolute; range: `gte`/`lte`), short text to a string entry (accepted answers: a
 * case-insensitive mapping; a pattern: `patternMatch`), essays to extended text, files to upload. Points are the
 * MAXSCORE outcome. Where QTI has nothing (partial-credit modes, the Ringlet type, tags, difficulty, choice ids that
 * are not QTI identifiers), `data-ringlet-*` attributes carry it, so an export imported yields the same items.
 */

const QTI_NAMESPACES: Record<QtiVersion, string> = {
  qti3: "http://www.imsglobal.org/xsd/imsqtiasi_v3p0",
  qti21: "http://www.imsglobal.org/xsd/imsqti_v2p1",
};

const SCHEMA_LOCATIONS: Record<QtiVersion, string> = {
  qti3: "http://www.imsglobal.org/xsd/imsqtiasi_v3p0 https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd",
  qti21: "http://www.imsglobal.org/xsd/imsqti_v2p1 http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1p2.xsd",
};

const TEMPLATES: Record<QtiVersion, Record<"matchCorrect" | "mapResponse", string>> = {
  qti3: {
    matchCorrect: "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml",
    mapResponse: "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response.xml",
  },
  qti21: {
    matchCorrect: "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct",
    mapResponse: "http://www.imsglobal.org/question/qti_v2p1/rptemplates/map_response",
  },
};

/** QTI identifiers are XML names (letters, digits, `-`, `_`, `.`; not starting with a digit). */
const isQtiIdentifier = (s: string): boolean => /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s);

const value = (v: string | number) => el("value", {}, [String(v)]);
const outcome = (identifier: string, defaultValue: number) =>
  el("outcomeDeclaration", { identifier, cardinality: "single", baseType: "float" }, [el("defaultValue", {}, [value(defaultValue)])]);
const variable = (identifier: string) => el("variable", { identifier });
const float = (v: number) => el("baseValue", { baseType: "float" }, [String(v)]);

/** `if (condition) SCORE = MAXSCORE else SCORE = 0`. */
const scoreIf = (condition: XmlNode) =>
  el("responseProcessing", {}, [
    el("responseCondition", {}, [
      el("responseIf", {}, [condition, el("setOutcomeValue", { identifier: "SCORE" }, [variable("MAXSCORE")])]),
      el("responseElse", {}, [el("setOutcomeValue", { identifier: "SCORE" }, [float(0)])]),
    ]),
  ]);

interface Parts {
  declaration: XmlNode;
  body: XmlNode[];
  processing?: XmlNode;
}

function choiceParts(item: Extract<Item, { choices: unknown }>, key: ItemKey | null, version: QtiVersion): Parts {
  const multiple = item.type === "multiple";
  const idOf = (id: string, index: number) => (isQtiIdentifier(id) ? id : `choice-${index + 1}`);
  const ids = new Map(item.choices.map((c, i) => [c.id, idOf(c.id, i)]));
  const correct = key?.type === "single" ? [key.correct] : key?.type === "multiple" ? key.correct : [];
  const mapping =
    multiple && item.partialCredit === "right-minus-wrong"
      ? [
          el(
            "mapping",
            { lowerBound: 0, upperBound: item.points, defaultValue: 0 },
            item.choices.map((c) => el("mapEntry", { mapKey: ids.get(c.id), mappedValue: (correct.includes(c.id) ? 1 : -1) * (item.points / Math.max(1, correct.length)) })),
          ),
        ]
      : [];
  return {
    declaration: el("responseDeclaration", { identifier: "RESPONSE", cardinality: multiple ? "multiple" : "single", baseType: "identifier" }, [
      el("correctResponse", {}, correct.map((c) => value(ids.get(c) ?? c))),
      ...mapping,
    ]),
    body: [
      el("choiceInteraction", { responseIdentifier: "RESPONSE", shuffle: "false", maxChoices: multiple ? 0 : 1 }, [
        el("prompt", {}, [item.prompt]),
        ...item.choices.map((c, i) => el("simpleChoice", { identifier: idOf(c.id, i), "data-ringlet-id": isQtiIdentifier(c.id) ? undefined : c.id }, [c.text])),
      ]),
    ],
    processing: el("responseProcessing", { template: TEMPLATES[version][mapping.length ? "mapResponse" : "matchCorrect"] }),
  };
}

function trueFalseParts(item: Item, key: ItemKey | null, version: QtiVersion): Parts {
  const correct = key?.type === "true-false" ? String(key.correct) : undefined;
  return {
    declaration: el("responseDeclaration", { identifier: "RESPONSE", cardinality: "single", baseType: "identifier" }, correct ? [el("correctResponse", {}, [value(correct)])] : []),
    body: [
      el("choiceInteraction", { responseIdentifier: "RESPONSE", shuffle: "false", maxChoices: 1 }, [
        el("prompt", {}, [item.prompt]),
        el("simpleChoice", { identifier: "true" }, ["True"]),
        el("simpleChoice", { identifier: "false" }, ["False"]),
      ]),
    ],
    processing: el("responseProcessing", { template: TEMPLATES[version].matchCorrect }),
  };
}

// A text entry is inline: the prompt is a paragraph before it, marked so it reads back exactly.
const entryBody = (item: Item) => [el("p", { "data-ringlet-prompt": "true" }, [item.prompt]), el("p", {}, [el("textEntryInteraction", { responseIdentifier: "RESPONSE" })])];

function numericParts(item: Item, key: ItemKey | null, version: QtiVersion): Parts {
  const declaration = (correct?: number) =>
    el("responseDeclaration", { identifier: "RESPONSE", cardinality: "single", baseType: "float" }, correct === undefined ? [] : [el("correctResponse", {}, [value(correct)])]);
  if (key?.type === "numeric" && key.mode === "tolerance") {
    const equal = el("equal", { toleranceMode: "absolute", tolerance: `${key.tolerance} ${key.tolerance}` }, [variable("RESPONSE"), el("correct", { identifier: "RESPONSE" })]);
    return { declaration: declaration(key.value), body: entryBody(item), processing: scoreIf(equal) };
  }
  if (key?.type === "numeric" && key.mode === "range") {
    const within = el("and", {}, [el("gte", {}, [variable("RESPONSE"), float(key.min)]), el("lte", {}, [variable("RESPONSE"), float(key.max)])]);
    return { declaration: declaration(), body: entryBody(item), processing: scoreIf(within) };
  }
  const exact = key?.type === "numeric" && key.mode === "exact" ? key.value : undefined;
  return { declaration: declaration(exact), body: entryBody(item), processing: el("responseProcessing", { template: TEMPLATES[version].matchCorrect }) };
}

/**
 * QTI's patternMatch is an XML Schema regular expression: matched against the whole response, where `^` and `$` are
 * plain characters. Ringlet matches its patterns whole too, so a leading `^` and a trailing unescaped `$` say nothing
 * and are dropped. (Case: Ringlet ignores it and XSD has no flag; `data-ringlet-pattern` keeps the original.)
 */
export function xsdPattern(pattern: string): string {
  let p = pattern.startsWith("^") ? pattern.slice(1) : pattern;
  const trailingBackslashes = /(\\*)\$$/.exec(p)?.[1]?.length ?? -1;
  if (trailingBackslashes >= 0 && trailingBackslashes % 2 === 0) p = p.slice(0, -1);
  return p;
}

function shortTextParts(item: Item, key: ItemKey | null, version: QtiVersion): Parts {
  if (key?.type === "short-text" && key.mode === "pattern") {
    return {
      declaration: el("responseDeclaration", { identifier: "RESPONSE", cardinality: "single", baseType: "string" }),
      body: entryBody(item),
      processing: scoreIf(el("patternMatch", { pattern: xsdPattern(key.pattern) }, [variable("RESPONSE")])),
    };
  }
  const accepted = key?.type === "short-text" && key.mode === "normalized" ? key.accepted : [];
  return {
    declaration: el("responseDeclaration", { identifier: "RESPONSE", cardinality: "single", baseType: "string" }, [
      ...(accepted.length ? [el("correctResponse", {}, [value(accepted[0] as string)])] : []),
      el(
        "mapping",
        { defaultValue: 0 },
        accepted.map((a) => el("mapEntry", { mapKey: a, mappedValue: item.points, caseSensitive: "false" })),
      ),
    ]),
    body: entryBody(item),
    processing: el("responseProcessing", { template: TEMPLATES[version].mapResponse }),
  };
}

function manualParts(item: Item): Parts {
  const file = item.type === "file";
  return {
    declaration: el("responseDeclaration", { identifier: "RESPONSE", cardinality: "single", baseType: file ? "file" : "string" }),
    body: [el(file ? "uploadInteraction" : "extendedTextInteraction", { responseIdentifier: "RESPONSE" }, [el("prompt", {}, [item.prompt])])],
  };
}

function partsOf(item: Item, key: ItemKey | null, version: QtiVersion): Parts {
  switch (item.type) {
    case "single":
    case "multiple":
      return choiceParts(item, key, version);
    case "true-false":
      return trueFalseParts(item, key, version);
    case "numeric":
      return numericParts(item, key, version);
    case "short-text":
      return shortTextParts(item, key, version);
    case "essay":
    case "file":
      return manualParts(item);
  }
}

/** One item as a QTI assessment item document. `identifier` must be a QTI identifier. */
export function qtiItemXml(exported: ExportedItem, identifier: string, version: QtiVersion): string {
  const { item, key } = exported;
  const parts = partsOf(item, key, version);
  const root = el(
    "assessmentItem",
    {
      xmlns: QTI_NAMESPACES[version],
      "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
      "xsi:schemaLocation": SCHEMA_LOCATIONS[version],
      identifier,
      title: item.prompt.slice(0, 80).replace(/\s+/g, " ").trim() || identifier,
      adaptive: "false",
      timeDependent: "false",
      "data-ringlet-type": item.type,
      "data-ringlet-partial-credit": item.type === "multiple" ? item.partialCredit : undefined,
      "data-ringlet-tags": exported.tags.length ? JSON.stringify(exported.tags) : undefined,
      "data-ringlet-difficulty": exported.difficulty ?? undefined,
      "data-ringlet-status": exported.status,
      // Ringlet's pattern as written (a JavaScript regular expression, matched whole and ignoring case).
      "data-ringlet-pattern": key?.type === "short-text" && key.mode === "pattern" ? key.pattern : undefined,
    },
    [parts.declaration, outcome("SCORE", 0), outcome("MAXSCORE", item.points), el("itemBody", {}, parts.body), ...(parts.processing ? [parts.processing] : [])],
  );
  return buildXml(root, version);
}

const MANIFEST: Record<QtiVersion, { ns: string; schemaLocation: string; resourceType: string; schema: string; schemaVersion: string }> = {
  qti3: {
    ns: "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1",
    schemaLocation: "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1 https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqtiv3p0_imscpv1p2_v1p0.xsd",
    resourceType: "imsqti_item_xmlv3p0",
    schema: "QTI Package",
    schemaVersion: "3.0.0",
  },
  qti21: {
    ns: "http://www.imsglobal.org/xsd/imscp_v1p1",
    schemaLocation: "http://www.imsglobal.org/xsd/imscp_v1p1 http://www.imsglobal.org/xsd/qti/qtiv2p1/qtiv2p1_imscpv1p2_v1p0.xsd",
    resourceType: "imsqti_item_xmlv2p1",
    schema: "QTIv2.1 Package",
    schemaVersion: "2.1.0",
  },
};

/** A bank as the files of an IMS content package: `imsmanifest.xml` and one item document per item, in order. */
export function qtiPackageFiles(bank: { id: string; title: string }, items: ExportedItem[], version: QtiVersion): { path: string; content: string }[] {
  const m = MANIFEST[version];
  const entries = items.map((it, i) => ({ identifier: `item-${String(i + 1).padStart(4, "0")}`, exported: it }));
  const files = entries.map((e) => ({ path: `items/${e.identifier}.xml`, content: qtiItemXml(e.exported, e.identifier, version) }));
  const manifest = el(
    "manifest",
    { xmlns: m.ns, "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance", "xsi:schemaLocation": m.schemaLocation, identifier: `bank-${bank.id}` },
    [
      el("metadata", {}, [el("schema", {}, [m.schema]), el("schemaversion", {}, [m.schemaVersion])]),
      el("organizations"),
      el(
        "resources",
        {},
        entries.map((e) => el("resource", { identifier: e.identifier, type: m.resourceType, href: `items/${e.identifier}.xml` }, [el("file", { href: `items/${e.identifier}.xml` })])),
      ),
    ],
  );
  return [{ path: "imsmanifest.xml", content: buildPlainXml(manifest) }, ...files];
}
