import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "../../../domain/identity/password-hash.js";
import { isCommonPassword, passwordSchema } from "../../../domain/identity/password-policy.js";

const cheap = { logN: 10, r: 8, p: 1 };

describe("password hashes", () => {
  it("carry their parameters and a per-user salt", async () => {
    const a = await hashPassword("Correct-Horse-Battery", cheap);
    const b = await hashPassword("Correct-Horse-Battery", cheap);
    expect(a).toMatch(/^scrypt\$ln=10,r=8,p=1\$[\w-]+\$[\w-]+$/);
    expect(a).not.toBe(b);
  });

  it("verify the right password only", async () => {
    const stored = await hashPassword("Correct-Horse-Battery", cheap);
    expect(await verifyPassword("Correct-Horse-Battery", stored, cheap)).toEqual({ ok: true, needsRehash: false });
    expect((await verifyPassword("correct-horse-battery", stored, cheap)).ok).toBe(false);
    expect((await verifyPassword("anything", "not-a-hash", cheap)).ok).toBe(false);
  });

  it("ask for a re-hash when the current cost is higher than the stored one", async () => {
    const stored = await hashPassword("Correct-Horse-Battery", cheap);
    expect(await verifyPassword("Correct-Horse-Battery", stored, { ...cheap, logN: 11 })).toEqual({ ok: true, needsRehash: true });
    expect((await verifyPassword("wrong-password-xx", stored, { ...cheap, logN: 11 })).needsRehash).toBe(false);
  });

  it("treat compatibility forms of one character alike (NFKC)", async () => {
    const stored = await hashPassword("ﬁne-password-123", cheap);
    expect((await verifyPassword("fine-password-123", stored, cheap)).ok).toBe(true);
  });
});

describe("password policy", () => {
  it("refuses common passwords whatever their case", () => {
    expect(isCommonPassword("QWERTY123456")).toBe(true);
    expect(isCommonPassword("Correct-Horse-Battery-9")).toBe(false);
  });

  it("needs 12 to 256 characters", () => {
    expect(passwordSchema.safeParse("a".repeat(11)).success).toBe(false);
    expect(passwordSchema.safeParse("Correct-Horse-Battery").success).toBe(true);
    expect(passwordSchema.safeParse("x".repeat(257)).success).toBe(false);
  });
});
