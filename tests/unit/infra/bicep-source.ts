import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * Just enough of Bicep's lexical structure to read declarations without a compiler (the Bicep CLI needs
 * a download the test environment does not have): comments and string literals are masked so braces and
 * keywords inside them do not count, while every offset still points at the same character of the source.
 */
export interface BicepFile {
  path: string;
  /** Path relative to the repository root, for messages. */
  name: string;
  text: string;
  /** `text` with comments blanked and string contents (quotes kept) blanked, same length. */
  code: string;
  /** String literals: offset of the opening quote and the raw text between the quotes. */
  strings: { start: number; raw: string }[];
  /** Problems the scanner found on its own (an unterminated string or comment). */
  lexErrors: string[];
}

export function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

const blank = (s: string) => s.replace(/[^\n]/g, " ");

/** Masks comments and strings. Interpolations (`${...}`) are part of their string and masked with it. */
export function scanBicep(path: string, root: string): BicepFile {
  const text = readFileSync(path, "utf8");
  const out: string[] = [];
  const strings: BicepFile["strings"] = [];
  const lexErrors: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      const stop = end === -1 ? text.length : end;
      out.push(blank(text.slice(i, stop)));
      i = stop;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end === -1) lexErrors.push(`${lineCol(text, i)} unterminated block comment`);
      const stop = end === -1 ? text.length : end + 2;
      out.push(blank(text.slice(i, stop)));
      i = stop;
    } else if (text.startsWith("'''", i)) {
      const end = text.indexOf("'''", i + 3);
      if (end === -1) lexErrors.push(`${lineCol(text, i)} unterminated multi-line string`);
      const stop = end === -1 ? text.length : end + 3;
      strings.push({ start: i, raw: text.slice(i + 3, stop - 3) });
      out.push("'''" + blank(text.slice(i + 3, stop - 3)) + (end === -1 ? "" : "'''"));
      i = stop;
    } else if (c === "'") {
      const stop = endOfString(text, i);
      if (stop === -1) {
        lexErrors.push(`${lineCol(text, i)} unterminated string`);
        out.push(blank(text.slice(i)));
        break;
      }
      strings.push({ start: i, raw: text.slice(i + 1, stop - 1) });
      out.push("'" + blank(text.slice(i + 1, stop - 1)) + "'");
      i = stop;
    } else {
      out.push(c as string);
      i += 1;
    }
  }
  return { path, name: relative(root, path), text, code: out.join(""), strings, lexErrors };
}

/** Index just past the closing quote of the string opening at `start`, or -1. Handles escapes and `${...}` (which may hold strings). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") i += 2;
    else if (c === "'") return i + 1;
    else if (c === "\n") return -1;
    else if (c === "$" && text[i + 1] === "{") {
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        if (text[i] === "'") {
          const inner = endOfString(text, i);
          if (inner === -1) return -1;
          i = inner;
          continue;
        }
        if (text[i] === "{") depth += 1;
        else if (text[i] === "}") depth -= 1;
        i += 1;
      }
    } else i += 1;
  }
  return -1;
}

/** The string literal whose opening quote is at `offset`. */
export function stringAt(file: BicepFile, offset: number): string | undefined {
  return file.strings.find((s) => s.start === offset)?.raw;
}

/** First unbalanced or mismatched bracket, as a readable message; undefined when balanced. */
export function bracketProblem(file: BicepFile): string | undefined {
  const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  const stack: { ch: string; at: number }[] = [];
  for (let i = 0; i < file.code.length; i += 1) {
    const ch = file.code[i] as string;
    if (ch === "(" || ch === "[" || ch === "{") stack.push({ ch, at: i });
    else if (ch in pairs) {
      const open = stack.pop();
      if (!open) return `${file.name}:${lineCol(file.text, i)} '${ch}' closes nothing`;
      if (open.ch !== pairs[ch]) return `${file.name}:${lineCol(file.text, i)} '${ch}' closes '${open.ch}' opened at ${lineCol(file.text, open.at)}`;
    }
  }
  const open = stack.pop();
  return open ? `${file.name}:${lineCol(file.text, open.at)} '${open.ch}' is never closed` : undefined;
}

/** Offset of the bracket that closes the one at `open`. */
export function closingBracket(file: BicepFile, open: number): number {
  let depth = 0;
  for (let i = open; i < file.code.length; i += 1) {
    const ch = file.code[i];
    if (ch === "(" || ch === "[" || ch === "{") depth += 1;
    else if (ch === ")" || ch === "]" || ch === "}") {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  throw new Error(`${file.name}:${lineCol(file.text, open)} bracket never closed`);
}

export interface ObjectKey {
  key: string;
  /** Source text of the value when it fits on the key's line (for literal checks). */
  value: string;
  offset: number;
}

/** Keys written directly inside the object literal opening at `open` (nested objects are skipped). */
export function objectKeys(file: BicepFile, open: number): ObjectKey[] {
  const close = closingBracket(file, open);
  const keys: ObjectKey[] = [];
  let depth = 0;
  let lineStart = true;
  for (let i = open + 1; i < close; i += 1) {
    const ch = file.code[i] as string;
    if (ch === "\n") {
      lineStart = true;
      continue;
    }
    if (lineStart && depth === 0 && ch !== " " && ch !== "\t") {
      lineStart = false;
      const rest = file.code.slice(i, file.code.indexOf("\n", i) === -1 ? close : file.code.indexOf("\n", i));
      const bare = /^([A-Za-z_][\w]*)\s*:/.exec(rest);
      const quoted = /^'\s*'\s*:/.exec(rest) ? stringAt(file, i) : undefined;
      const key = bare?.[1] ?? quoted;
      if (key !== undefined) {
        const colon = i + rest.indexOf(":");
        const eol = file.text.indexOf("\n", colon);
        keys.push({ key, value: file.text.slice(colon + 1, eol === -1 ? close : eol).trim(), offset: i });
      }
    } else if (ch !== " " && ch !== "\t") lineStart = false;
    if (ch === "(" || ch === "[" || ch === "{") depth += 1;
    else if (ch === ")" || ch === "]" || ch === "}") depth -= 1;
  }
  return keys;
}

export interface ParamDecl {
  name: string;
  type: string;
  hasDefault: boolean;
  /** Values of an @allowed([...]) decorator, as written ('x' or 42). */
  allowed?: string[];
}

export function params(file: BicepFile): ParamDecl[] {
  const found: ParamDecl[] = [];
  for (const m of file.code.matchAll(/^param\s+(\w+)\s+([\w.?[\]]+)([ \t]*=)?/gm)) {
    const decl: ParamDecl = { name: m[1] as string, type: m[2] as string, hasDefault: Boolean(m[3]) || (m[2] as string).endsWith("?") };
    // Decorators sit between the previous declaration and this one.
    const before = file.code.slice(0, m.index);
    const previous = Math.max(...["param ", "var ", "resource ", "module ", "output ", "type ", "func "].map((k) => before.lastIndexOf(`\n${k}`)));
    const decorators = file.text.slice(previous + 1, m.index);
    const allowed = /@allowed\(\s*\[([\s\S]*?)\]\s*\)/.exec(decorators);
    if (allowed) decl.allowed = (allowed[1] as string).split(/[\n,]/).map((v) => v.trim()).filter(Boolean);
    found.push(decl);
  }
  return found;
}

/** `param name = value` assignments of a .bicepparam file, with the value's source text when on one line. */
export function paramAssignments(file: BicepFile): { name: string; value: string }[] {
  return [...file.code.matchAll(/^param\s+(\w+)\s*=/gm)].map((m) => {
    const start = (m.index as number) + m[0].length;
    const eol = file.text.indexOf("\n", start);
    return { name: m[1] as string, value: file.text.slice(start, eol === -1 ? undefined : eol).trim() };
  });
}

export function outputs(file: BicepFile): string[] {
  return [...file.code.matchAll(/^output\s+(\w+)\s/gm)].map((m) => m[1] as string);
}

export interface ModuleDecl {
  symbol: string;
  path: string;
  /** Keys of its `params: { ... }` block. */
  params: string[];
  offset: number;
}

export function modules(file: BicepFile): ModuleDecl[] {
  const found: ModuleDecl[] = [];
  for (const m of file.code.matchAll(/^module\s+(\w+)\s+'/gm)) {
    const quote = (m.index as number) + m[0].length - 1;
    const path = stringAt(file, quote) ?? "";
    const body = file.code.indexOf("{", quote);
    const bodyEnd = closingBracket(file, body);
    const paramsKey = objectKeys(file, body).find((k) => k.key === "params");
    let passed: string[] = [];
    if (paramsKey) {
      const open = file.code.indexOf("{", paramsKey.offset);
      if (open !== -1 && open < bodyEnd) passed = objectKeys(file, open).map((k) => k.key);
    }
    found.push({ symbol: m[1] as string, path, params: passed, offset: m.index as number });
  }
  return found;
}

/** `resource x 'Type@version'` declarations, with their types. */
export function resourceTypes(file: BicepFile): { symbol: string; type: string; offset: number }[] {
  return [...file.code.matchAll(/^\s*resource\s+(\w+)\s+'/gm)].map((m) => {
    const quote = (m.index as number) + m[0].length - 1;
    return { symbol: m[1] as string, type: (stringAt(file, quote) ?? "").split("@")[0] as string, offset: m.index as number };
  });
}

/** Arguments of load*Content('path') calls. */
export function loadedFiles(file: BicepFile): { fn: string; path: string }[] {
  return [...file.code.matchAll(/\b(load\w*Content|loadFileAsBase64)\(\s*'/g)].map((m) => ({
    fn: m[1] as string,
    path: stringAt(file, (m.index as number) + m[0].length - 1) ?? "",
  }));
}

export function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(extension))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}
