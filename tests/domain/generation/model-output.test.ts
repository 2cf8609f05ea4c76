import { describe, expect, it } from "vitest";
import { answerJsonSchema, checkModelAnswer } from "../../../domain/generation/model-output.js";
import { generationRequest, SOURCE_CHAR_BUDGET } from "../../../domain/generation/prompt.js";

const single = (id: string, correct = "b", choices = [{ id: "a", text: "Red" }, { id: "b", text: "Blue" }, { id: "c", text: "Green" }]) => ({
  item: { id, type: "single", points: 1, prompt: "Which colour is the sky?", choices },
  key: { type: "single", correct },
  difficulty: "easy",
});
const numeric = (id: string, value: number, tolerance: number) => ({ item: { id, type: "numeric", points: 2, prompt: "g in m/s²?" }, key: { type: "numeric", mode: "tolerance", value, tolerance }, difficulty: "medium" });
const answer = (...items: unknown[]) => JSON.stringify({ items });

describe("checking a model's answer with the item schemas and checks", () => {
  it("keeps the good items as drafts-to-be and discards a wrong key with its reason", () => {
    const checked = checkModelAnswer(answer(single("q1"), single("q2"), single("q3", "z"), numeric("q4", 9.81, 0.1), single("q5")), ["single", "numeric"], 10);
    expect(checked.kind).toBe("items");
    if (checked.kind !== "items") return;
    expect(checked.given).toBe(5);
    expect(checked.valid.map((v) => v.index)).toEqual([10, 11, 13, 14]);
    expect(checked.valid[2]).toMatchObject({ item: { type: "numeric" }, key: { mode: "tolerance", value: 9.81 }, difficulty: "medium", tags: [] });
    expect(checked.discarded).toEqual([{ index: 12, reason: "q3: the key names no choice of the item" }]);
  });

  it("discards text PostgreSQL cannot store (NUL, a lone surrogate), with a storable reason", () => {
    const nul = { ...single("n\u0000"), item: { ...single("n\u0000").item, prompt: "Sky\u0000?" } };
    const lone = single("s", "a", [{ id: "a", text: "Blue \ud800" }, { id: "b", text: "Red" }]);
    const nulKey = { ...single("f"), item: { ...single("f").item, ["x\u0000"]: 1 } };
    const checked = checkModelAnswer(answer(nul, lone, nulKey, single("ok")), ["single"], 0);
    if (checked.kind !== "items") throw new Error("expected items");
    expect(checked.valid.map((v) => v.index)).toEqual([3]);
    expect(checked.discarded.map((d) => d.reason)).toEqual([
      "n\ufffd: its text contains NUL characters or unpaired surrogates, which cannot be stored",
      "s: its text contains NUL characters or unpaired surrogates, which cannot be stored",
      "the item has fields items do not have: x\ufffd",
    ]);
  });

  it("discards duplicate choices, a tolerance as wide as the value, a type not asked for and extra fields", () => {
    const dup = single("d", "a", [{ id: "a", text: "Blue" }, { id: "b", text: " blue " }]);
    const extraItem = { ...single("e"), item: { ...single("e").item, hint: "look up" } };
    const extraKey = { ...single("k"), key: { type: "single", correct: "b", explanation: "because" } };
    const extraChoice = single("c", "a", [{ id: "a", text: "One", correct: true } as { id: string; text: string }, { id: "b", text: "Two" }]);
    const extraEntry = { ...single("x"), rationale: "why" };
    const tf = { item: { id: "t", type: "true-false", points: 1, prompt: "?" }, key: { type: "true-false", correct: true }, difficulty: "easy" };
    const checked = checkModelAnswer(answer(dup, numeric("n", 5, 5), tf, extraItem, extraKey, extraChoice, extraEntry), ["single", "numeric"], 0);
    if (checked.kind !== "items") throw new Error("expected items");
    expect(checked.valid).toEqual([]);
    const reasons = checked.discarded.map((d) => d.reason);
    expect(reasons[0]).toBe("d: two choices say the same thing");
    expect(reasons[1]).toBe("n: the tolerance is not smaller than the value");
    expect(reasons[2]).toBe("a true-false item was not asked for (asked: single, numeric)");
    expect(reasons[3]).toBe("the item has fields items do not have: hint");
    expect(reasons[4]).toBe("the key has fields keys do not have: explanation");
    expect(reasons[5]).toBe("the item has fields items do not have: choices.0.correct");
    expect(reasons[6]).toMatch(/^not an item entry: .*rationale/);
  });

  it("discards an item of the wrong shape, a key of another type, and a key on an essay", () => {
    const noChoices = { item: { id: "s", type: "single", points: 1, prompt: "?" }, key: { type: "single", correct: "a" }, difficulty: "easy" };
    const wrongKey = { ...single("w"), key: { type: "true-false", correct: true } };
    const essayKey = { item: { id: "es", type: "essay", points: 5, prompt: "Discuss." }, key: { type: "single", correct: "a" }, difficulty: "hard" };
    const checked = checkModelAnswer(answer(noChoices, wrongKey, essayKey), ["single", "essay"], 0);
    if (checked.kind !== "items") throw new Error("expected items");
    expect(checked.discarded.map((d) => d.reason)).toEqual([
      expect.stringMatching(/^the item is not valid: choices:/),
      "w: needs a single key",
      "es: essay items are graded by a person and take no key",
    ]);
  });

  it("tells an answer that is not JSON, or not in the answer's shape, from bad items", () => {
    expect(checkModelAnswer("Sure! {items: [", ["single"], 0)).toEqual({ kind: "not-json", reason: "the model's answer is not JSON" });
    expect(checkModelAnswer(JSON.stringify([single("q")]), ["single"], 0).kind).toBe("not-json");
  });
});

describe("the structured-output schema and the prompt", () => {
  it("is strict-compatible: every object closed with all its properties required, anyOf only, no bounds", () => {
    const schema = answerJsonSchema(["single", "essay"]);
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (typeof node !== "object" || node === null) return;
      const o = node as Record<string, unknown>;
      for (const banned of ["oneOf", "default", "minLength", "maxLength", "maximum", "exclusiveMinimum", "minItems", "$schema", "const"]) expect(o).not.toHaveProperty(banned);
      if (o.type === "object") {
        expect(o.additionalProperties).toBe(false);
        expect(o.required).toEqual(Object.keys(o.properties as object));
      }
      Object.values(o).forEach(walk);
    };
    walk(schema);
    const variants = (schema as { properties: { items: { items: { properties: { item: { anyOf: { properties: { type: { enum: string[] } } }[] } } } } } }).properties.items.items.properties.item.anyOf;
    expect(variants.map((v) => v.properties.type.enum)).toEqual([["single"], ["essay"]]);
  });

  it("states the ask on the first line and cuts a long source to the budget, saying so", () => {
    const short = generationRequest(3, ["single", "numeric"], "Photosynthesis makes sugar.");
    expect(short.user.split("\n")[0]).toBe("generate count=3 types=single,numeric");
    expect(short.user).toContain("Photosynthesis makes sugar.");
    const long = generationRequest(1, ["essay"], "x".repeat(SOURCE_CHAR_BUDGET + 500));
    expect(long.user).toContain(`cut to its first ${SOURCE_CHAR_BUDGET} of ${SOURCE_CHAR_BUDGET + 500} characters`);
    expect(long.user.length).toBeLessThan(SOURCE_CHAR_BUDGET + 1000);
    expect(long.schema).toMatchObject({ name: "generated_items" });
  });
});
