// What the development OpenAI stand-in answers when nothing is scripted: valid assessment items, made
// deterministically from the request. The ask is read from the user message's first line
// (`generate count=<n> types=<a,b>`, as Ringlet's generator writes it), else from the response schema's item types.

interface Made {
  item: Record<string, unknown>;
  key: unknown;
  difficulty: "easy" | "medium" | "hard";
}

const difficulties = ["easy", "medium", "hard"] as const;

/** The ask: how many items, of which types. */
export function askOf(userMessage: string, schema: unknown): { count: number; types: string[] } {
  const first = /^generate count=(\d{1,3}) types=([a-z,-]+)\s*$/m.exec(userMessage.split("\n")[0] ?? "");
  if (first) return { count: Math.min(Number(first[1]), 200), types: (first[2] as string).split(",").filter(Boolean) };
  return { count: 1, types: schemaTypes(schema) };
}

function schemaTypes(schema: unknown): string[] {
  const variants = (schema as { properties?: { items?: { items?: { properties?: { item?: { anyOf?: { properties?: { type?: { enum?: string[] } } }[] } } } } } })?.properties?.items?.items?.properties?.item?.anyOf ?? [];
  const types = variants.map((v) => v.properties?.type?.enum?.[0]).filter((t): t is string => typeof t === "string");
  return types.length ? types : ["single"];
}

/** A short topic from the source (between <source> tags), so the drafts read as if about it. */
export function topicOf(userMessage: string): string {
  const source = /<source>\n([\s\S]*?)\n<\/source>/.exec(userMessage)?.[1] ?? userMessage;
  const words = source.replace(/[#*_`>]/g, " ").split(/\s+/).filter((w) => w.length > 3).slice(0, 6);
  return words.join(" ") || "the source";
}

/** Item `index` of the answer: of the ask's types in turn; `malformed` makes it break one of the item rules. */
export function makeItem(type: string, index: number, topic: string, malformed: boolean): Made {
  const n = index + 1;
  const difficulty = difficulties[index % 3] as Made["difficulty"];
  const base = { id: `q${n}`, points: 1, prompt: `Question ${n} about ${topic}.` };
  const choices = [
    { id: "a", text: `First statement ${n}` },
    { id: "b", text: `Second statement ${n}` },
    { id: "c", text: `Third statement ${n}` },
    { id: "d", text: `Fourth statement ${n}` },
  ];
  // Each malformed item breaks a rule of its type that only the item checks catch (the JSON shape stays valid).
  const sameTwice = [...choices.slice(0, 3), { id: "d", text: `First statement ${n}` }];
  switch (type) {
    case "single":
      return { item: { ...base, type, choices: malformed ? sameTwice : choices }, key: { type, correct: "b" }, difficulty };
    case "multiple":
      return { item: { ...base, type, choices, partialCredit: "all-or-nothing" }, key: { type, correct: malformed ? ["a", "z"] : ["a", "c"] }, difficulty };
    case "true-false":
      return { item: { ...base, type }, key: malformed ? { type: "single", correct: "a" } : { type, correct: n % 2 === 0 }, difficulty };
    case "numeric":
      return { item: { ...base, type }, key: { type, mode: "tolerance", value: 10 + n, tolerance: malformed ? 50 : 0.5 }, difficulty };
    case "short-text":
      return { item: { ...base, type }, key: malformed ? { type, mode: "pattern", pattern: "([unclosed" } : { type, mode: "normalized", accepted: [`answer ${n}`] }, difficulty };
    default:
      // essay, file (and any type this stand-in does not know): graded by a person, no key.
      return { item: { ...base, type }, key: malformed ? { type: "single", correct: "a" } : null, difficulty };
  }
}

/** The answer's JSON text: `{ items: [{ item, key, difficulty }] }`. */
export function itemsAnswer(userMessage: string, schema: unknown, malformed: readonly number[]): string {
  const { count, types } = askOf(userMessage, schema);
  const topic = topicOf(userMessage);
  const items = Array.from({ length: count }, (_, i) => makeItem(types[i % types.length] as string, i, topic, malformed.includes(i)));
  return JSON.stringify({ items });
}
