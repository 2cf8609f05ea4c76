import type { FieldError } from "./problem.js";

/** Deeper request values are refused: nothing in the API nests this far, and PostgreSQL's jsonb has a depth limit. */
export const MAX_INPUT_DEPTH = 64;

// PostgreSQL text and jsonb cannot hold U+0000, and a lone UTF-16 surrogate has no UTF-8 form (it would be
// stored as U+FFFD, silently altered). In a `u` regex a well-formed pair is one code point, so only lone ones match.
const UNSTORABLE = /\0|\p{Cs}/u;

/**
 * The strings (and object keys) of a request value that the database could not store as sent, and values
 * nested deeper than MAX_INPUT_DEPTH, as field errors under `source`. Iterative, so a hostile nesting
 * depth cannot overflow the stack.
 */
export function unstorableInput(value: unknown, source: "body" | "query" | "params"): FieldError[] {
  const errors: FieldError[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: source, depth: 0 }];
  while (stack.length > 0 && errors.length < 20) {
    const next = stack.pop() as { value: unknown; path: string; depth: number };
    if (typeof next.value === "string") {
      if (UNSTORABLE.test(next.value)) errors.push({ path: next.path, message: "must not contain NUL characters or unpaired surrogates" });
      continue;
    }
    if (typeof next.value !== "object" || next.value === null) continue;
    if (next.depth >= MAX_INPUT_DEPTH) {
      errors.push({ path: next.path, message: `nests deeper than ${MAX_INPUT_DEPTH} levels` });
      continue;
    }
    for (const [key, child] of Object.entries(next.value)) {
      const path = `${next.path}.${key}`;
      if (UNSTORABLE.test(key)) errors.push({ path: `${next.path}.${JSON.stringify(key).slice(1, -1)}`, message: "the field name must not contain NUL characters or unpaired surrogates" });
      else stack.push({ value: child, path, depth: next.depth + 1 });
    }
  }
  return errors;
}
