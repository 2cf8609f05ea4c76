import { describe, expect, it } from "vitest";
import { bankFile, MAX_TRANSFER_ITEMS, readBankFile, type ExportedItem } from "../../../domain/banks/bank-format.js";

const items: ExportedItem[] = [
  { item: { id: "q1", type: "single", points: 2, prompt: "Pick", choices: [{ id: "a", text: "A" }, { id: "b", text: "B" }] }, key: { type: "single", correct: "a" }, tags: ["t"], difficulty: "easy" },
  { item: { id: "q2", type: "numeric", points: 1, prompt: "pi" }, key: { type: "numeric", mode: "tolerance", value: 3.14, tolerance: 0.01 }, tags: [], difficulty: null },
  { item: { id: "q3", type: "essay", points: 5, prompt: "Discuss" }, key: null, tags: [], difficulty: "hard" },
];

describe("the JSON bank format", () => {
  it("round-trips items, keys, tags and difficulty", () => {
    const read = readBankFile(JSON.stringify(bankFile({ title: "B", description: "" }, items)));
    expect(read.ok && read.value).toEqual(items);
  });

  it("refuses text that is not JSON, another format or version, and a malformed envelope, naming the path", () => {
    expect(readBankFile("{nope").ok ? null : (readBankFile("{nope") as { error: { code: string } }).error.code).toBe("BANK_IMPORT_INVALID");
    const other = readBankFile(JSON.stringify({ ...bankFile({ title: "B", description: "" }, items), version: 2 }));
    expect(other.ok ? null : other.error).toMatchObject({ code: "BANK_IMPORT_INVALID", detail: expect.stringContaining("version") });
    const badItem = readBankFile(JSON.stringify(bankFile({ title: "B", description: "" }, [{ ...items[0], item: { id: "x", type: "weird" } } as unknown as ExportedItem])));
    expect(badItem.ok ? null : badItem.error).toMatchObject({ code: "BANK_IMPORT_INVALID", detail: expect.stringContaining("items.0.item") });
  });

  it("refuses the whole file when one item's key contradicts it, listing the item's position", () => {
    const broken = [...items, { ...items[0], key: { type: "single", correct: "zz" } } as ExportedItem];
    const read = readBankFile(JSON.stringify(bankFile({ title: "B", description: "" }, broken)));
    expect(read.ok ? null : read.error).toMatchObject({ code: "INVALID_ITEM", detail: expect.stringContaining("item 3") });
  });

  it("refuses NUL characters, escaped or raw", () => {
    const withNul = JSON.stringify(bankFile({ title: "B", description: "" }, [{ ...(items[2] as ExportedItem), item: { id: "e", type: "essay", points: 1, prompt: "a\u0000b" } }]));
    expect(withNul).toContain("\\u0000");
    expect(readBankFile(withNul).ok).toBe(false);
    expect(readBankFile(withNul.replace("\\u0000", "\u0000")).ok).toBe(false);
  });

  it("refuses more items than an import holds", () => {
    const many = Array.from({ length: MAX_TRANSFER_ITEMS + 1 }, () => items[1] as ExportedItem);
    expect(readBankFile(JSON.stringify(bankFile({ title: "B", description: "" }, many))).ok).toBe(false);
  });
});
