const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** A date and time in the reader's locale and zone; an em dash for none. */
export function formatDateTime(value: string | null | undefined): string {
  return value ? dateTime.format(new Date(value)) : "—";
}

export function formatDate(value: string | null | undefined): string {
  return value ? dateOnly.format(new Date(value)) : "—";
}

/** Money from integer minor units and an ISO 4217 code; the currency's own digits come from Intl. */
export function formatMoney(amountMinor: number | string, currency: string): string {
  const format = new Intl.NumberFormat(undefined, { style: "currency", currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const minor = BigInt(amountMinor);
  const scale = 10n ** BigInt(digits);
  const sign = minor < 0n ? "-" : "";
  const abs = minor < 0n ? -minor : minor;
  // Built from the integer's digits, never by dividing a float.
  const text = digits === 0 ? `${sign}${abs}` : `${sign}${abs / scale}.${(abs % scale).toString().padStart(digits, "0")}`;
  return format.format(text as unknown as number);
}

/** A share (0..1) as a whole percent. */
export function formatPercent(value: number | null | undefined): string {
  return value == null ? "—" : `${Math.round(value * 100)}%`;
}

/** Seconds as m:ss (or h:mm:ss), for countdowns. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** A percent the API already scaled (0..100) to one decimal, "82.5%"; `whenNull` (an em dash) for none. */
export function formatPercentValue(value: number | null | undefined, whenNull = "—"): string {
  return value == null ? whenNull : `${Math.round(value * 10) / 10}%`;
}
