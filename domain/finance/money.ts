import { z } from "zod";

// Amounts are integers in the currency's minor units (cents, yen, fils) beside an ISO 4217 code; no float ever
// holds an amount. Rounding is done in one place (here), by one rule: half up, to the nearest minor unit.

const knownCurrencies = new Set(Intl.supportedValuesOf("currency"));

/** An ISO 4217 code the platform knows (upper case, three letters). */
export const isCurrency = (code: string): boolean => /^[A-Z]{3}$/.test(code) && knownCurrencies.has(code);

const digits = new Map<string, number>();

/** How many decimal places the currency's minor unit has (USD 2, JPY 0, KWD 3), as ISO 4217 says. */
export function minorDigits(currency: string): number {
  let n = digits.get(currency);
  if (n === undefined) {
    n = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    digits.set(currency, n);
  }
  return n;
}

/**
 * `basisPoints` (1/100 of a percent: 500 = 5%) of an amount, rounded half up to a whole minor unit. Computed in
 * BigInt: amount × basis points can pass 2^53.
 */
export function percentOf(amountMinor: number, basisPoints: number): number {
  if (!Number.isSafeInteger(amountMinor) || !Number.isSafeInteger(basisPoints) || amountMinor < 0 || basisPoints < 0) {
    throw new RangeError("percentOf takes non-negative whole minor units and basis points");
  }
  return Number((BigInt(amountMinor) * BigInt(basisPoints) + 5_000n) / 10_000n);
}

/**
 * Splits a total into n parts that differ by at most one minor unit and sum exactly to it; the first parts
 * take the remainder (an instalment plan never leaves a cent behind or charges one too many).
 */
export function splitEvenly(totalMinor: number, n: number): number[] {
  if (!Number.isSafeInteger(totalMinor) || totalMinor < 0 || !Number.isInteger(n) || n < 1) throw new RangeError("splitEvenly takes a whole total and n >= 1");
  const base = Math.floor(totalMinor / n);
  const extra = totalMinor - base * n;
  return Array.from({ length: n }, (_, i) => base + (i < extra ? 1 : 0));
}

/** For people, not arithmetic: "$1,234.50", "¥1,235", in the reader's locale. */
export function formatMoney(amountMinor: number, currency: string, locale = "en"): string {
  const d = minorDigits(currency);
  // Shown from the exact integer: the decimal point is placed in the string, not by dividing a float.
  const sign = amountMinor < 0 ? "-" : "";
  const s = String(Math.abs(amountMinor)).padStart(d + 1, "0");
  const major = d === 0 ? s : `${s.slice(0, -d)}.${s.slice(-d)}`;
  return new Intl.NumberFormat(locale, { style: "currency", currency, minimumFractionDigits: d, maximumFractionDigits: d }).format(
    `${sign}${major}` as unknown as number,
  );
}

/** An ISO 4217 currency code at a boundary (upper case; an unknown code is a 400). */
export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, "an ISO 4217 code in upper case, e.g. USD")
  .refine(isCurrency, "not an ISO 4217 currency")
  .meta({ description: "ISO 4217 currency code, e.g. `USD`, `EUR`, `JPY`", example: "USD" });

/** A positive amount in minor units at a boundary: an integer (never a decimal), at most 10^12. */
export const amountMinorSchema = z
  .number()
  .int("amounts are whole minor units (cents): 1250 for 12.50")
  .positive()
  .max(1_000_000_000_000)
  .meta({ description: "Amount in the currency's minor units (cents for USD, yen for JPY): an integer", example: 125_000 });
