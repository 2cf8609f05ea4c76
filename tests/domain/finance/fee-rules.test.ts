import { describe, expect, it } from "vitest";
import { discountBreach, type FeeTerms, feeTermsBreach } from "../../../domain/finance/fee-rules.js";
import { draftInvoice } from "../../../domain/finance/invoices.js";

const base: FeeTerms = {
  name: "Tuition",
  currency: "USD",
  amountMinor: 100_000,
  sectionId: null,
  term: null,
  dueAt: null,
  dueAfterDays: 14,
  requirement: "full",
  instalments: [],
  lateFee: { kind: "none", value: 0, graceDays: 0 },
};
const day = (d: number) => new Date(Date.UTC(2026, 8, d));
const breachPath = (patch: Partial<FeeTerms>) => feeTermsBreach({ ...base, ...patch })?.path ?? null;

describe("fee terms", () => {
  it("accepts a plain fee, a plan by days after issue and a plan by dates", () => {
    expect(feeTermsBreach(base)).toBeNull();
    expect(breachPath({ requirement: "first-instalment", instalments: [{ amountMinor: 40_000, dueAt: null, dueAfterDays: 0 }, { amountMinor: 60_000, dueAt: null, dueAfterDays: 30 }] })).toBeNull();
    expect(breachPath({ instalments: [{ amountMinor: 50_000, dueAt: day(1), dueAfterDays: 0 }, { amountMinor: 50_000, dueAt: day(2), dueAfterDays: 0 }] })).toBeNull();
  });

  it("refuses a plan whose instalments do not add up to the fee, by one minor unit either way", () => {
    const plan = (a: number, b: number) => [{ amountMinor: a, dueAt: null, dueAfterDays: 0 }, { amountMinor: b, dueAt: null, dueAfterDays: 10 }];
    expect(breachPath({ instalments: plan(50_000, 49_999) })).toBe("instalments");
    expect(breachPath({ instalments: plan(50_000, 50_001) })).toBe("instalments");
  });

  it("refuses due dates out of order, equal ones, mixed kinds and a one-part plan", () => {
    expect(breachPath({ instalments: [{ amountMinor: 50_000, dueAt: day(2), dueAfterDays: 0 }, { amountMinor: 50_000, dueAt: day(1), dueAfterDays: 0 }] })).toBe("instalments.1");
    expect(breachPath({ instalments: [{ amountMinor: 50_000, dueAt: null, dueAfterDays: 5 }, { amountMinor: 50_000, dueAt: null, dueAfterDays: 5 }] })).toBe("instalments.1");
    expect(breachPath({ instalments: [{ amountMinor: 50_000, dueAt: day(1), dueAfterDays: 0 }, { amountMinor: 50_000, dueAt: null, dueAfterDays: 5 }] })).toBe("instalments");
    expect(breachPath({ instalments: [{ amountMinor: 100_000, dueAt: null, dueAfterDays: 0 }] })).toBe("instalments");
  });

  it("refuses non-integer, zero and negative amounts, an unknown currency and first-instalment without a plan", () => {
    expect(breachPath({ amountMinor: 10.5 })).toBe("amountMinor");
    expect(breachPath({ amountMinor: 0 })).toBe("amountMinor");
    expect(breachPath({ amountMinor: -5 })).toBe("amountMinor");
    expect(breachPath({ currency: "XYZ" })).toBe("currency");
    expect(breachPath({ requirement: "first-instalment" })).toBe("requirement");
    expect(breachPath({ instalments: [{ amountMinor: 100_001, dueAt: null, dueAfterDays: 0 }, { amountMinor: -1, dueAt: null, dueAfterDays: 1 }] })).toBe("instalments.1.amountMinor");
  });

  it("bounds late fees: percent 1..10000 bp, fixed at most the fee, none has no value", () => {
    expect(breachPath({ lateFee: { kind: "percent", value: 10_000, graceDays: 3 } })).toBeNull();
    expect(breachPath({ lateFee: { kind: "percent", value: 10_001, graceDays: 3 } })).toBe("lateFee.value");
    expect(breachPath({ lateFee: { kind: "fixed", value: 100_000, graceDays: 0 } })).toBeNull();
    expect(breachPath({ lateFee: { kind: "fixed", value: 100_001, graceDays: 0 } })).toBe("lateFee.value");
    expect(breachPath({ lateFee: { kind: "fixed", value: 0, graceDays: 0 } })).toBe("lateFee.value");
    expect(breachPath({ lateFee: { kind: "none", value: 5, graceDays: 0 } })).toBe("lateFee.value");
    expect(breachPath({ lateFee: { kind: "none", value: 0, graceDays: -1 } })).toBe("lateFee.graceDays");
  });
});

describe("discount terms", () => {
  it("takes percent in basis points up to 100%, fixed up to the fee, a waiver without a value", () => {
    expect(discountBreach("percent", 10_000, 500)).toBeNull();
    expect(discountBreach("percent", 10_001, 500)?.path).toBe("value");
    expect(discountBreach("percent", 0, 500)?.path).toBe("value");
    expect(discountBreach("fixed", 500, 500)).toBeNull();
    expect(discountBreach("fixed", 501, 500)?.path).toBe("value");
    expect(discountBreach("fixed", 1.5, 500)?.path).toBe("value");
    expect(discountBreach("waiver", 0, 500)).toBeNull();
    expect(discountBreach("waiver", 3, 500)?.path).toBe("value");
  });
});

describe("a held seat's invoice", () => {
  const issuedAt = new Date("2031-03-01T10:00:00Z");
  const until = new Date("2031-03-03T10:00:00Z");
  const fee = { name: "Tuition", term: null, amountMinor: 100_000, dueAt: null, dueAfterDays: 14 };
  const plan = [
    { seq: 1, amountMinor: 40_000, dueAt: null, dueAfterDays: 7 },
    { seq: 2, amountMinor: 60_000, dueAt: null, dueAfterDays: 30 },
  ];
  const dues = (d: ReturnType<typeof draftInvoice>) => d.instalments.map((p) => p.dueAt.toISOString());

  it("asks for what the hold requires no later than the seat is released", () => {
    expect(dues(draftInvoice(fee, [], undefined, issuedAt, { requirement: "full", until }))).toEqual([until.toISOString()]);
    const first = draftInvoice(fee, plan, undefined, issuedAt, { requirement: "first-instalment", until });
    expect(dues(first)).toEqual([until.toISOString(), "2031-03-31T10:00:00.000Z"]);
    expect(dues(draftInvoice(fee, plan, undefined, issuedAt, { requirement: "full", until }))).toEqual([until.toISOString(), until.toISOString()]);
    expect(draftInvoice(fee, plan, undefined, issuedAt, { requirement: "full", until }).dueAt).toEqual(until);
  });

  it("leaves earlier dates, fees that ask nothing first, and seats that are not held as planned", () => {
    const soon = [{ seq: 1, amountMinor: 100_000, dueAt: null, dueAfterDays: 1 }, { seq: 2, amountMinor: 0, dueAt: null, dueAfterDays: 2 }];
    expect(dues(draftInvoice(fee, soon, undefined, issuedAt, { requirement: "full", until }))[0]).toBe("2031-03-02T10:00:00.000Z");
    expect(dues(draftInvoice(fee, [], undefined, issuedAt, { requirement: "none", until }))).toEqual(["2031-03-15T10:00:00.000Z"]);
    expect(dues(draftInvoice(fee, [], undefined, issuedAt, { requirement: "full", until: null }))).toEqual(["2031-03-15T10:00:00.000Z"]);
    // A hold already past at issue: due at issue, never before it.
    expect(dues(draftInvoice(fee, [], undefined, issuedAt, { requirement: "full", until: new Date("2031-02-01T00:00:00Z") }))).toEqual([issuedAt.toISOString()]);
  });
});
