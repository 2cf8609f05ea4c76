// Stripe's request encoding: `application/x-www-form-urlencoded` with nested keys as the SDK writes them
// (`metadata[order]=7`, `line_items[0][price_data][currency]=eur`), and the same syntax in GET query strings.
// Objects are made without a prototype so a key like `__proto__` is just a key.

export type FormValue = string | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

/** Deeper keys than this are refused (Stripe's own params nest at most a few levels). */
const maxDepth = 6;

/** The nested params, or what is wrong with them. */
export function parseForm(text: string): FormObject | string {
  const root: FormObject = Object.create(null) as FormObject;
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    if (!match) return `Invalid parameter name: ${rawKey}`;
    const path = [match[1] as string, ...[...(match[2] ?? "").matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1] as string)];
    if (path.length > maxDepth) return `Parameter nested too deeply: ${rawKey}`;
    let node = root;
    for (const [i, segment] of path.entries()) {
      // `a[]=x` appends, as qs reads it.
      const key = segment === "" ? String(Object.keys(node).length) : segment;
      if (i === path.length - 1) {
        if (typeof node[key] === "object") return `Invalid value for ${rawKey}: it is also an object.`;
        node[key] = value;
      } else {
        const next = node[key];
        if (typeof next === "string") return `Invalid value for ${rawKey}: ${path.slice(0, i + 1).join(".")} is a string.`;
        node = next ?? (node[key] = Object.create(null) as FormObject);
      }
    }
  }
  return root;
}

/** A list param (`a[0]`, `a[1]`, ...) in index order, or undefined when it is not one. */
export function formList(value: FormValue | undefined): FormValue[] | undefined {
  if (value === undefined || typeof value === "string") return undefined;
  const keys = Object.keys(value);
  if (!keys.every((k) => /^\d+$/.test(k))) return undefined;
  return keys.sort((a, b) => Number(a) - Number(b)).map((k) => value[k] as FormValue);
}
