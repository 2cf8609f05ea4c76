import { XMLBuilder, XMLParser, XMLValidator } from "fast-xml-parser";
import { fail, ok, type Result } from "../../shared/result.js";

/**
 * A small element tree over fast-xml-parser's ordered output, with names made version-neutral: QTI 3.0's
 * `qti-choice-interaction` / `response-identifier` and QTI 2.1's `choiceInteraction` / `responseIdentifier` both read
 * as the 2.1 (camelCase) names, namespace prefixes dropped. `data-*` attributes keep their names.
 */
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: (XmlNode | string)[];
}

export type XmlProblem = "QTI_DOCTYPE_FORBIDDEN" | "QTI_INVALID";

// What the parser is given: entities are NOT expanded by it (processEntities false); the five predefined ones and
// character references are decoded below. A DOCTYPE (the only way to declare an entity or an external DTD) is
// refused before parsing, which covers XXE and entity expansion (billion laughs) alike.
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: "#cdata",
  commentPropName: "#comment",
});

const builder = new XMLBuilder({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: "@_", format: true, suppressEmptyNode: true, processEntities: true });

const camel = (s: string) => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
const kebab = (s: string) => s.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);

/** The neutral (QTI 2.1) name of a QTI 3.0 element or attribute, namespace prefix dropped. */
export function neutralName(name: string, isAttribute = false): string {
  const local = name.includes(":") && !name.startsWith("xmlns") ? name.slice(name.indexOf(":") + 1) : name;
  if (isAttribute) return local.startsWith("data-") || local.startsWith("xml") ? local : camel(local);
  return local.startsWith("qti-") ? camel(local.slice(4)) : local;
}

const decode = (s: string): string =>
  s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) => {
    if (e === "lt") return "<";
    if (e === "gt") return ">";
    if (e === "amp") return "&";
    if (e === "quot") return '"';
    if (e === "apos") return "'";
    const code = e.startsWith("#x") ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : "";
  });

type Ordered = Record<string, unknown>;

function toNode(entry: Ordered): XmlNode | string | null {
  if ("#text" in entry) return decode(String(entry["#text"]));
  if ("#cdata" in entry) return ((entry["#cdata"] as Ordered[]) ?? []).map((c) => String(c["#text"] ?? "")).join("");
  if ("#comment" in entry) return null;
  const name = Object.keys(entry).find((k) => k !== ":@");
  if (!name) return null;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries((entry[":@"] as Record<string, string> | undefined) ?? {})) attrs[neutralName(k, true)] = decode(String(v));
  const children = ((entry[name] as Ordered[]) ?? []).map(toNode).filter((c): c is XmlNode | string => c !== null);
  return { name: neutralName(name), attrs, children };
}

/**
 * Parses one XML document into its root element. Refused: a DOCTYPE or entity declaration (QTI needs no DTD),
 * NUL characters, and anything not well-formed (the problem names the file, line and column).
 */
export function parseXml(text: string, file: string): Result<XmlNode, XmlProblem> {
  const body = text.replace(/^\uFEFF/, "");
  if (/<!DOCTYPE/i.test(body) || /<!ENTITY/i.test(body)) return fail("QTI_DOCTYPE_FORBIDDEN", `${file}: a DOCTYPE or entity declaration is not allowed (QTI needs no DTD).`, { file });
  if (body.includes("\u0000")) return fail("QTI_INVALID", `${file}: the document holds NUL characters.`, { file });
  const valid = XMLValidator.validate(body);
  if (valid !== true) return fail("QTI_INVALID", `${file}: line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}`, { file, line: valid.err.line, column: valid.err.col });
  let parsed: Ordered[];
  try {
    parsed = parser.parse(body) as Ordered[];
  } catch (err) {
    // The parser's own limits (e.g. "Maximum nested tags exceeded") throw: the document is refused, not a fault.
    return fail("QTI_INVALID", `${file}: ${(err as Error).message}`, { file });
  }
  const roots = parsed.map(toNode).filter((n): n is XmlNode => n !== null && typeof n !== "string");
  const [root] = roots;
  if (!root || roots.length !== 1) return fail("QTI_INVALID", `${file}: the document must have one root element.`, { file });
  return ok(root);
}

export type QtiVersion = "qti3" | "qti21";

function toOrdered(node: XmlNode, version: QtiVersion, plain: boolean): Ordered {
  const qti3 = version === "qti3" && !plain;
  const xmlName = qti3 ? qti3Element(node.name) : node.name;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(node.attrs)) attrs[`@_${qti3 && !k.startsWith("data-") && !k.includes(":") && k !== "xmlns" ? kebab(k) : k}`] = v;
  const children = node.children.map((c) => (typeof c === "string" ? { "#text": c } : toOrdered(c, version, plain)));
  return { [xmlName]: children, ...(Object.keys(attrs).length ? { ":@": attrs } : {}) };
}

// XHTML elements keep their names in QTI 3.0; QTI's own elements take the qti- prefix and kebab case.
const xhtml = new Set(["p", "div", "span", "br", "em", "strong", "b", "i", "ul", "ol", "li", "img", "table", "tr", "td", "th", "pre", "code", "sub", "sup", "a", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"]);
const qti3Element = (name: string) => (xhtml.has(name) ? name : `qti-${kebab(name)}`);

/** Writes a tree (neutral names) as QTI 3.0 or 2.1 XML with its declaration. */
export function buildXml(root: XmlNode, version: QtiVersion): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build([toOrdered(root, version, false)]) as string}`;
}

/** Writes a plain XML document (the manifest): names as they are. */
export function buildPlainXml(root: XmlNode): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build([toOrdered(root, "qti21", true)]) as string}`;
}

export const el = (name: string, attrs: Record<string, string | number | undefined> = {}, children: (XmlNode | string)[] = []): XmlNode => ({
  name,
  attrs: Object.fromEntries(Object.entries(attrs).filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]) => [k, String(v)])),
  children,
});

export const elements = (node: XmlNode): XmlNode[] => node.children.filter((c): c is XmlNode => typeof c !== "string");
export const child = (node: XmlNode, name: string): XmlNode | undefined => elements(node).find((c) => c.name === name);
export const childrenNamed = (node: XmlNode, name: string): XmlNode[] => elements(node).filter((c) => c.name === name);

/** Every element below `node` (depth first, document order). */
export function descendants(node: XmlNode): XmlNode[] {
  return elements(node).flatMap((c) => [c, ...descendants(c)]);
}

/** The text content of an element (its descendants' text, in order). */
export function textOf(node: XmlNode): string {
  return node.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}
