import { z } from "zod";

// Amounts are integers in the currency's minor units (cents, yen, fils) beside an ISO 4217 code; no float ever
// holds an amount. Rounding is done in one place (here), by one rule: half up, to the nearest minor unit.

/**
 * The currencies accepted and their minor-unit exponent, from ISO 4217 (list one), not from Intl: Intl follows
 * CLDR's display digits (HUF 0, IQD 0), which are not the ISO minor units amounts are counted in (HUF 2, IQD 3).
 * Left out: fund codes, precious metals and units of account (no standard exponent), and the currencies Stripe
 * treats specially, where its amounts do not follow the ISO exponent (ISK, HUF, TWD, UGX; MGA, which Stripe counts
 * in whole ariary while ISO says 2). Stripe's three-decimal currencies (BHD, JOD, KWD, OMR, TND) follow ISO.
 */
const ISO_4217_EXPONENTS: ReadonlyMap<string, number> = new Map(
  Object.entries({
    0: "BIF CLP DJF GNF JPY KMF KRW PYG RWF VND VUV XAF XOF XPF",
    2: [
      "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CNY",
      "COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG IDR ILS INR",
      "IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD",
      "NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN",
      "SVC SYP SZL THB TJS TMT TOP TRY TTD TZS UAH USD UYU UZS VES WST XCD XCG YER ZAR ZMW ZWG",
    ].join(" "),
    3: "BHD IQD JOD KWD LYD OMR TND",
  }).flatMap(([exponent, codes]) => codes.split(" ").map((code): [string, number] => [code, Number(exponent)])),
);

/** An ISO 4217 code the platform accepts (upper case, three letters, in the table above). */
export const isCurrency = (code: string): boolean => ISO_4217_EXPONENTS.has(code);

/** How many decimal places the currency's minor unit has (USD 2, JPY 0, KWD 3), as ISO 4217 says. */
export function minorDigits(currency: string): number {
  const n = ISO_4217_EXPONENTS.get(currency);
  if (n === undefined) throw new RangeError(`not an accepted ISO 4217 currency: ${currency}`);
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
  .refine(isCurrency, "not an ISO 4217 currency the platform accepts")
  .meta({ description: "ISO 4217 currency code, e.g. `USD`, `EUR`, `JPY`", example: "USD" });

/** A positive amount in minor units at a boundary: an integer (never a decimal), at most 10^12. */
export const amountMinorSchema = z
  .number()
  .int("amounts are whole minor units (cents): 1250 for 12.50")
  .positive()
  .max(1_000_000_000_000)
  .meta({ description: "Amount in the currency's minor units (cents for USD, yen for JPY): an integer", example: 125_000 });
