import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { instalmentStates, overdueInstalments } from "../../../domain/finance/instalments.js";
import { amountMinorSchema, currencySchema, formatMoney, isCurrency, minorDigits, percentOf, splitEvenly } from "../../../domain/finance/money.js";

describe("money", () => {
  it("knows ISO 4217 codes and their minor digits", () => {
    expect(isCurrency("USD")).toBe(true);
    expect(isCurrency("usd")).toBe(false);
    expect(isCurrency("XYZ")).toBe(false);
    expect([minorDigits("USD"), minorDigits("JPY"), minorDigits("KWD")]).toEqual([2, 0, 3]);
  });

  it("lets a credit note for everything asked take the late fees too", () => {
    const plan = [
      { seq: 1, amountMinor: 25_000, dueAt: new Date("2031-01-01T00:00:00Z") },
      { seq: 2, amountMinor: 25_000, dueAt: new Date("2031-02-01T00:00:00Z") },
    ];
    const states = instalmentStates(plan, { lateFees: new Map([[1, 1_000]]), reducedMinor: 51_000, settledMinor: 0 });
    expect(states.map((s) => s.outstandingMinor)).toEqual([0, 0]);
    expect(overdueInstalments(states, new Date("2031-03-01T00:00:00Z"))).toEqual([]);
  });

  it("takes minor digits from ISO 4217, not CLDR, and agrees with Stripe's zero- and three-decimal lists", () => {
    // CLDR (Intl) says IQD 0, ISO 4217 says 3; HUF (ISO 2, CLDR 0) is one Stripe treats specially: not accepted.
    expect(minorDigits("IQD")).toBe(3);
    for (const special of ["HUF", "ISK", "TWD", "UGX", "MGA", "XAU", "CLF"]) expect(isCurrency(special)).toBe(false);
    expect(() => minorDigits("HUF")).toThrow(RangeError);
    expect(currencySchema.safeParse("HUF").success).toBe(false);
    // https://docs.stripe.com/currencies#zero-decimal and #three-decimal (less the special cases left out above)
    const stripeZero = ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "PYG", "RWF", "VND", "VUV", "XAF", "XOF", "XPF"];
    const stripeThree = ["BHD", "JOD", "KWD", "OMR", "TND"];
    expect(stripeZero.map(minorDigits)).toEqual(stripeZero.map(() => 0));
    expect(stripeThree.map(minorDigits)).toEqual(stripeThree.map(() => 3));
    expect(formatMoney(1_234, "IQD", "en")).toContain("1.234");
  });

  it("rounds percentages half up in whole minor units, exactly beyond 2^53 intermediates", () => {
    expect(percentOf(30_001, 500)).toBe(1_500); // 1,500.05
    expect(percentOf(30_010, 500)).toBe(1_501); // 1,500.5 rounds up
    expect(percentOf(1, 4_999)).toBe(0);
    expect(percentOf(1, 5_000)).toBe(1);
    expect(percentOf(9_007_199_254_740_991, 10_000)).toBe(9_007_199_254_740_991);
    expect(() => percentOf(-1, 100)).toThrow(RangeError);
    expect(() => percentOf(1.5, 100)).toThrow(RangeError);
  });

  it("matches exact rational rounding for any amount and rate", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), fc.integer({ min: 0, max: 10_000 }), (amount, bp) => {
        const exact = BigInt(amount) * BigInt(bp);
        const got = BigInt(percentOf(amount, bp));
        // got is the nearest integer to exact / 10000, ties up: |got*10000 - exact| <= 5000 and a tie goes up.
        const diff = got * 10_000n - exact;
        return diff > -5_000n && diff <= 5_000n;
      }),
    );
  });

  it("splits evenly: n parts summing to the total, differing by at most one, the larger first", () => {
    expect(splitEvenly(100, 3)).toEqual([34, 33, 33]);
    expect(splitEvenly(0, 2)).toEqual([0, 0]);
    expect(() => splitEvenly(10, 0)).toThrow(RangeError);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), fc.integer({ min: 1, max: 48 }), (total, n) => {
        const parts = splitEvenly(total, n);
        return parts.length === n && parts.reduce((a, b) => a + b, 0) === total && Math.max(...parts) - Math.min(...parts) <= 1 && parts.every((p, i) => i === 0 || p <= parts[i - 1]!);
      }),
    );
  });

  it("formats from the integer, never through a float", () => {
    expect(formatMoney(123_450, "USD")).toBe("$1,234.50");
    expect(formatMoney(5, "USD")).toBe("$0.05");
    expect(formatMoney(-2_000, "USD")).toBe("-$20.00");
    expect(formatMoney(1_235, "JPY")).toBe("¥1,235");
    expect(formatMoney(1_234, "KWD", "en")).toContain("1.234");
    expect(formatMoney(900_719_925_474_099, "USD")).toBe("$9,007,199,254,740.99");
  });

  it("refuses decimals, strings and unknown codes at the boundary", () => {
    expect(currencySchema.safeParse("EUR").success).toBe(true);
    expect(currencySchema.safeParse("eur").success).toBe(false);
    expect(currencySchema.safeParse("ABC").success).toBe(false);
    expect(amountMinorSchema.safeParse(1250).success).toBe(true);
    for (const bad of [12.5, "1250", 0, -1, 1e13, Number.NaN]) expect(amountMinorSchema.safeParse(bad).success).toBe(false);
  });
});

describe("instalment states", () => {
  const at = (day: number) => new Date(Date.UTC(2031, 0, 1 + day));
  const plan = [
    { seq: 2, amountMinor: 300, dueAt: at(30) },
    { seq: 1, amountMinor: 400, dueAt: at(0) },
    { seq: 3, amountMinor: 300, dueAt: at(60) },
  ];

  it("pays the oldest first with its late fees, and takes reductions off the last", () => {
    const states = instalmentStates(plan, { lateFees: new Map([[1, 20]]), reducedMinor: 350, settledMinor: 500 });
    expect(states.map((s) => [s.seq, s.dueMinor, s.paidMinor, s.outstandingMinor])).toEqual([
      [1, 420, 420, 0],
      [2, 250, 80, 170],
      [3, 0, 0, 0],
    ]);
    expect(overdueInstalments(states, at(31)).map((s) => s.seq)).toEqual([2]);
    expect(overdueInstalments(states, at(29))).toEqual([]);
  });

  it("leaves every instalment at zero on an overpayment, and ignores negative settlements", () => {
    expect(instalmentStates(plan, { lateFees: new Map(), reducedMinor: 0, settledMinor: 5_000 }).every((s) => s.outstandingMinor === 0)).toBe(true);
    expect(instalmentStates(plan, { lateFees: new Map(), reducedMinor: 0, settledMinor: -50 }).map((s) => s.outstandingMinor)).toEqual([400, 300, 300]);
  });

  it("keeps what is outstanding equal to what is asked less what was paid, for any amounts", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 700_000 }),
        fc.integer({ min: -10_000, max: 700_000 }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 6 }),
        (amounts, reduced, settled, fees) => {
          const parts = amounts.map((amountMinor, i) => ({ seq: i + 1, amountMinor, dueAt: at(i * 30) }));
          const lateFees = new Map(fees.slice(0, parts.length).map((f, i) => [i + 1, f] as [number, number]));
          const states = instalmentStates(parts, { lateFees, reducedMinor: reduced, settledMinor: settled });
          const asked = states.reduce((t, s) => t + s.dueMinor, 0);
          const total = amounts.reduce((a, b) => a + b, 0) + [...lateFees.values()].reduce((a, b) => a + b, 0);
          const outstanding = states.reduce((t, s) => t + s.outstandingMinor, 0);
          return (
            // Credit notes take late fees too (a credit note for everything asked leaves nothing on any part).
            asked === total - Math.min(reduced, total) &&
            outstanding === Math.max(0, asked - Math.max(0, settled)) &&
            states.every((s) => s.outstandingMinor >= 0 && s.paidMinor >= 0 && s.dueMinor >= 0 && s.dueMinor <= s.amountMinor + s.lateFeeMinor)
          );
        },
      ),
    );
  });
});
