import { describe, expect, it } from "vitest";
import { bankFile, MAX_TRANSFER_ITEMS, readBankFile, type ExportedItem } from "../../../domain/banks/bank-format.js";

const items: ExportedItem[] = [
  { item: { id: "q1", type: "single", points: 2, prompt: "Pick", choices: [{ id: "a", text: "A" }, { id: "b", text: "B" }] }, key: { type: "single", correct: "a" }, tags: ["t"], difficulty: "easy", status: "approved" },
  { item: { id: "q2", type: "numeric", points: 1, prompt: "pi" }, key: { type: "numeric", mode: "tolerance", value: 3.14, tolerance: 0.01 }, tags: [], difficulty: null, status: "approved" },
  { item: { id: "q3", type: "essay", points: 5, prompt: "Discuss" }, key: null, tags: [], difficulty: "hard", status: "approved" },
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

  it("refuses NUL characters and lone surrogates in the parsed strings, and takes the text `\\u0000` as it is", () => {
    const essay = (prompt: string, tags: string[] = []) => JSON.stringify(bankFile({ title: "B", description: "" }, [{ ...(items[2] as ExportedItem), item: { id: "e", type: "essay", points: 1, prompt }, tags }]));
    const withNul = essay("a\u0000b");
    expect(withNul).toContain("\\u0000");
    expect(readBankFile(withNul).ok ? null : (readBankFile(withNul) as { error: { code: string } }).error.code).toBe("INVALID_ITEM");
    expect(readBankFile(withNul.replace("\\u0000", "\u0000")).ok).toBe(false);
    const surrogate = readBankFile(essay("a\ud800b"));
    expect(surrogate.ok ? null : surrogate.error).toMatchObject({ code: "INVALID_ITEM", detail: expect.stringContaining("surrogate") });
    expect(readBankFile(essay("ok", ["t\u0000"])).ok).toBe(false);
    // A backslash followed by u0000 is legitimate text (a prompt about escapes).
    const literal = readBankFile(essay("write \\u0000 for NUL"));
    expect(literal.ok && literal.value[0]?.item.prompt).toBe("write \\u0000 for NUL");
  });

  it("imports approved items as approved and everything else (drafts, retired, no status) as drafts", () => {
    const file = bankFile({ title: "B", description: "" }, [
      { ...(items[0] as ExportedItem), status: "approved" },
      { ...(items[1] as ExportedItem), status: "draft" },
      { ...(items[2] as ExportedItem), status: "retired" },
    ]);
    expect(JSON.stringify(file)).toContain('"status":"draft"');
    const withoutStatus = { ...file, items: [...file.items, { ...file.items[0], status: undefined }] };
    const read = readBankFile(JSON.stringify(withoutStatus));
    expect(read.ok && read.value.map((i) => i.status)).toEqual(["approved", "draft", "draft", "draft"]);
  });

  it("refuses more items than an import holds", () => {
    const many = Array.from({ length: MAX_TRANSFER_ITEMS + 1 }, () => items[1] as ExportedItem);
    expect(readBankFile(JSON.stringify(bankFile({ title: "B", description: "" }, many))).ok).toBe(false);
  });
});
