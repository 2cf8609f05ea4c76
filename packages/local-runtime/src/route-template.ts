// ASP.NET-style route templates as the Functions host uses them for HTTP triggers:
// literals, {param}, {param?}, {param=default}, {param:constraint(args)...}, catch-all {*rest}.

export interface LiteralPart {
  kind: "literal";
  text: string;
}

export interface ParameterPart {
  kind: "parameter";
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue: string | undefined;
  constraints: RouteConstraint[];
}

export type TemplatePart = LiteralPart | ParameterPart;

export interface TemplateSegment {
  parts: TemplatePart[];
  /** For complex segments ("{name}.{ext}"): the compiled matcher, built on first use. */
  matcher?: RegExp;
}

export interface RouteConstraint {
  text: string;
  test(value: string): boolean;
}

export interface RouteTemplate {
  text: string;
  segments: TemplateSegment[];
}

export class RouteTemplateError extends Error {}

export function parseRouteTemplate(text: string): RouteTemplate {
  const trimmed = text.replace(/^[~]?\/+/, "").replace(/\/+$/, "");
  const segments = trimmed === "" ? [] : trimmed.split("/").map((segment) => parseSegment(segment, text));
  segments.forEach((segment, index) => {
    for (const part of segment.parts) {
      if (part.kind === "parameter" && part.catchAll && (index !== segments.length - 1 || segment.parts.length > 1)) {
        throw new RouteTemplateError(`A catch-all parameter can only appear as the last segment of the route template ('${text}').`);
      }
    }
  });
  return { text, segments };
}

function parseSegment(segment: string, template: string): TemplateSegment {
  if (segment === "") throw new RouteTemplateError(`The route template '${template}' has an empty segment.`);
  const parts: TemplatePart[] = [];
  let i = 0;
  let literal = "";
  while (i < segment.length) {
    const ch = segment[i] as string;
    if (ch === "{" && segment[i + 1] === "{") {
      literal += "{";
      i += 2;
    } else if (ch === "}" && segment[i + 1] === "}") {
      literal += "}";
      i += 2;
    } else if (ch === "{") {
      const end = findParameterEnd(segment, i + 1);
      if (end < 0) throw new RouteTemplateError(`Unclosed parameter in route template '${template}'.`);
      if (literal) parts.push({ kind: "literal", text: literal });
      literal = "";
      parts.push(parseParameter(segment.slice(i + 1, end).replace(/\{\{/g, "{").replace(/\}\}/g, "}"), template));
      i = end + 1;
    } else {
      literal += ch;
      i += 1;
    }
  }
  if (literal) parts.push({ kind: "literal", text: literal });
  return { parts };
}

/** The closing brace of a parameter, skipping doubled braces and anything inside constraint parentheses. */
function findParameterEnd(segment: string, from: number): number {
  let depth = 0;
  for (let i = from; i < segment.length; i++) {
    const ch = segment[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth = Math.max(0, depth - 1);
    else if (ch === "}" && segment[i + 1] === "}") i++;
    else if (ch === "}" && depth === 0) return i;
  }
  return -1;
}

function parseParameter(body: string, template: string): ParameterPart {
  let rest = body;
  let catchAll = false;
  if (rest.startsWith("**")) {
    catchAll = true;
    rest = rest.slice(2);
  } else if (rest.startsWith("*")) {
    catchAll = true;
    rest = rest.slice(1);
  }
  const nameMatch = /^[^:=?]+/.exec(rest);
  if (!nameMatch) throw new RouteTemplateError(`A route parameter in '${template}' has no name.`);
  const name = nameMatch[0];
  rest = rest.slice(name.length);

  const constraintTexts: string[] = [];
  let depth = 0;
  let current: string | undefined;
  let tail = "";
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i] as string;
    if (depth === 0 && ch === ":") {
      if (current !== undefined) constraintTexts.push(current);
      current = "";
      continue;
    }
    if (depth === 0 && (ch === "=" || ch === "?")) {
      tail = rest.slice(i);
      break;
    }
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    current = (current ?? "") + ch;
  }
  if (current !== undefined) constraintTexts.push(current);

  let optional = false;
  let defaultValue: string | undefined;
  if (tail.startsWith("?")) optional = true;
  else if (tail.startsWith("=")) defaultValue = tail.slice(1);
  return {
    kind: "parameter",
    name,
    optional: optional || catchAll,
    catchAll,
    defaultValue,
    constraints: constraintTexts.map((c) => makeConstraint(c, template)),
  };
}

const int32 = { min: -2147483648, max: 2147483647 };

function numberArgs(args: string | undefined): number[] {
  return (args ?? "").split(",").map((a) => Number(a.trim()));
}

function makeConstraint(text: string, template: string): RouteConstraint {
  const match = /^([A-Za-z]+)(?:\((.*)\))?$/s.exec(text);
  if (!match) throw new RouteTemplateError(`The constraint '${text}' in route '${template}' could not be parsed.`);
  const name = (match[1] as string).toLowerCase();
  const args = match[2];
  const isInt = (v: string): boolean => /^-?\d+$/.test(v);
  let test: (value: string) => boolean;
  switch (name) {
    case "int":
      test = (v) => isInt(v) && Number(v) >= int32.min && Number(v) <= int32.max;
      break;
    case "long":
      test = (v) => isInt(v) && BigInt(v) >= -(2n ** 63n) && BigInt(v) < 2n ** 63n;
      break;
    case "bool":
      test = (v) => /^(true|false)$/i.test(v);
      break;
    case "guid":
      test = (v) =>
        /^(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}|\([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\))$/i.test(v);
      break;
    case "alpha":
      test = (v) => /^[a-z]+$/i.test(v);
      break;
    case "datetime":
      test = (v) => !Number.isNaN(Date.parse(v));
      break;
    case "decimal":
    case "double":
    case "float":
      test = (v) => /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v);
      break;
    case "min": {
      const [min = 0] = numberArgs(args);
      test = (v) => isInt(v) && Number(v) >= min;
      break;
    }
    case "max": {
      const [max = 0] = numberArgs(args);
      test = (v) => isInt(v) && Number(v) <= max;
      break;
    }
    case "range": {
      const [min = 0, max = 0] = numberArgs(args);
      test = (v) => isInt(v) && Number(v) >= min && Number(v) <= max;
      break;
    }
    case "minlength": {
      const [min = 0] = numberArgs(args);
      test = (v) => v.length >= min;
      break;
    }
    case "maxlength": {
      const [max = 0] = numberArgs(args);
      test = (v) => v.length <= max;
      break;
    }
    case "length": {
      const [a = 0, b] = numberArgs(args);
      test = (v) => (b === undefined ? v.length === a : v.length >= a && v.length <= b);
      break;
    }
    case "regex": {
      // ASP.NET evaluates regex constraints case-insensitively and unanchored.
      const expression = new RegExp(args ?? "", "i");
      test = (v) => expression.test(v);
      break;
    }
    case "required":
      test = (v) => v !== "";
      break;
    default:
      throw new RouteTemplateError(`The constraint '${name}' in route '${template}' could not be resolved.`);
  }
  return { text, test };
}

/** Tries to match app-relative path segments (already split, not yet decoded); returns params or undefined. */
export function matchRouteTemplate(template: RouteTemplate, rawSegments: string[]): Record<string, string> | undefined {
  return matchDecodedSegments(template, decodeSegments(rawSegments));
}

/** Percent-decodes path segments once, so one request can be tried against every template without decoding again. */
export function decodeSegments(rawSegments: string[]): string[] {
  return rawSegments.map(safeDecode);
}

/** matchRouteTemplate for segments already decoded with decodeSegments. */
export function matchDecodedSegments(template: RouteTemplate, segments: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  const { segments: templateSegments } = template;
  for (let i = 0; i < templateSegments.length; i++) {
    const segment = templateSegments[i] as TemplateSegment;
    const single = segment.parts.length === 1 ? segment.parts[0] : undefined;
    if (single?.kind === "parameter" && single.catchAll) {
      const value = segments.slice(i).join("/");
      if (value === "") {
        if (single.defaultValue !== undefined) params[single.name] = single.defaultValue;
      } else {
        if (!single.constraints.every((c) => c.test(value))) return undefined;
        params[single.name] = value;
      }
      return params;
    }
    const value = segments[i];
    if (value === undefined) {
      // Missing trailing segments are allowed only for optional or defaulted parameters.
      if (single?.kind !== "parameter" || (!single.optional && single.defaultValue === undefined)) return undefined;
      if (single.defaultValue !== undefined) params[single.name] = single.defaultValue;
      continue;
    }
    if (!matchSegment(segment, value, params)) return undefined;
  }
  return segments.length > templateSegments.length ? undefined : params;
}

function matchSegment(segment: TemplateSegment, value: string, params: Record<string, string>): boolean {
  if (segment.parts.length === 1) {
    const part = segment.parts[0] as TemplatePart;
    if (part.kind === "literal") return part.text.toLowerCase() === value.toLowerCase();
    if (value === "" || !part.constraints.every((c) => c.test(value))) return false;
    params[part.name] = value;
    return true;
  }
  // Complex segment such as "{name}.{ext}": literals anchor the parameters between them.
  const names = segment.parts.filter((part): part is ParameterPart => part.kind === "parameter");
  segment.matcher ??= new RegExp(
    `^${segment.parts
      .map((part) => {
        if (part.kind === "literal") return part.text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        return part.optional ? "(.*?)" : "(.+?)";
      })
      .join("")}$`,
    "i",
  );
  const match = segment.matcher.exec(value);
  if (!match) return false;
  for (const [index, part] of names.entries()) {
    const captured = match[index + 1] ?? "";
    if (captured === "") {
      if (!part.optional) return false;
      continue;
    }
    if (!part.constraints.every((c) => c.test(captured))) return false;
    params[part.name] = captured;
  }
  return true;
}

/** A path segment decoded; a malformed escape (`%E0%A4%A`) stays as it is, so it is looked up and not found. */
export function safeDecode(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Route order of the host's WebJobsRouteBuilder: segment by segment, a literal beats a parameter, a parameter with
 * more inline constraints beats one with fewer, literals compare case-insensitively, and a longer template beats a
 * shorter one. Where that rule ties we put a catch-all after a plain parameter (the host leaves that tie unordered).
 */
export function compareRoutePrecedence(x: RouteTemplate, y: RouteTemplate): number {
  for (let i = 0; i < x.segments.length; i++) {
    const ySegment = y.segments[i];
    if (!ySegment) return -1;
    const xPart = (x.segments[i] as TemplateSegment).parts[0] as TemplatePart;
    const yPart = ySegment.parts[0] as TemplatePart;
    if (xPart.kind === "literal" && yPart.kind === "parameter") return -1;
    if (xPart.kind === "parameter" && yPart.kind === "literal") return 1;
    if (xPart.kind === "parameter" && yPart.kind === "parameter") {
      if (xPart.constraints.length !== yPart.constraints.length) return yPart.constraints.length - xPart.constraints.length;
      if (xPart.catchAll !== yPart.catchAll) return xPart.catchAll ? 1 : -1;
    } else if (xPart.kind === "literal" && yPart.kind === "literal") {
      const a = xPart.text.toUpperCase();
      const b = yPart.text.toUpperCase();
      if (a !== b) return a < b ? -1 : 1;
    }
  }
  return y.segments.length > x.segments.length ? 1 : 0;
}
