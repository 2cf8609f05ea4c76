import { randomInt, timingSafeEqual } from "node:crypto";
import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import { phoneNumbers, users } from "../db/schema/index.js";
import { countInWindow, retryAfterSeconds } from "../identity/login-throttle.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { hashToken } from "../shared/token-hash.js";
import { recordSms } from "./channel-deliveries.js";

export type PhoneErrorCode =
  | "PHONE_NUMBER_INVALID"
  | "PHONE_NOT_FOUND"
  | "PHONE_ALREADY_VERIFIED"
  | "PHONE_CODE_THROTTLED"
  | "PHONE_CODE_INVALID"
  | "PHONE_CODE_EXPIRED"
  | "PHONE_CODE_ATTEMPTS_EXCEEDED";

export interface PhoneRules {
  codeTtlMinutes: number;
  /** Wrong codes allowed against one code; then a new one must be asked for. */
  maxAttempts: number;
  /** Codes sent per user per hour, and per destination number per hour. */
  maxSendsPerHour: number;
}

/** What the user sees of their number: masked but for its last digits, and whether it is verified. */
export interface PhoneView {
  phone: string;
  verified: boolean;
  /** When the pending code expires (null: none pending). */
  codeExpiresAt: Date | null;
}

const E164 = /^\+[1-9]\d{6,14}$/;
const SEND_WINDOW_S = 3600;

/**
 * E.164 exactly (no spaces, no national form) and a number that exists in its country's numbering plan. The plans
 * (libphonenumber, about 110 modules) load with the first number checked, not with the app.
 */
export async function isE164(phone: string): Promise<boolean> {
  if (!E164.test(phone)) return false;
  const { isValidPhoneNumber } = await import("libphonenumber-js");
  return isValidPhoneNumber(phone);
}

export const maskPhone = (e164: string): string => `+${"*".repeat(Math.max(0, e164.length - 4))}${e164.slice(-3)}`;

const codeText: Record<string, (code: string, minutes: number) => string> = {
  en: (code, minutes) => `Your Ringlet verification code is ${code}. It expires in ${minutes} minutes.`,
  es: (code, minutes) => `Tu código de verificación de Ringlet es ${code}. Caduca en ${minutes} minutos.`,
};

const view = (row: typeof phoneNumbers.$inferSelect): PhoneView => ({ phone: maskPhone(row.e164), verified: row.verifiedAt !== null, codeExpiresAt: row.verifiedAt ? null : row.codeExpiresAt });

export async function phoneOf(db: Executor, userId: string): Promise<PhoneView | null> {
  const [row] = await db.select().from(phoneNumbers).where(eq(phoneNumbers.userId, userId));
  return row ? view(row) : null;
}

/**
 * Sets the user's number and texts it a 6-digit code (stored hashed, recorded as an SMS delivery sent after
 * commit, never an event). A new number is unverified until its code is entered; the same verified number
 * again changes nothing. Codes are throttled per hour per user and per destination number (counted first,
 * atomically, so racing requests each count).
 */
export async function setPhone(ctx: DomainContext, userId: string, phone: string, rules: PhoneRules): Promise<Result<PhoneView, PhoneErrorCode>> {
  if (!(await isE164(phone))) return fail("PHONE_NUMBER_INVALID", "Give the number in E.164 form: + and the country code, then the number, digits only (+34612345678).");
  const now = ctx.now();
  const [user] = await ctx.db.select({ locale: users.locale }).from(users).where(eq(users.id, userId)).for("no key update");
  const [current] = await ctx.db.select().from(phoneNumbers).where(eq(phoneNumbers.userId, userId)).for("update");
  if (current && current.e164 === phone && current.verifiedAt) return ok(view(current));
  // Per user, then per destination: many accounts cannot pump texts to one (premium-rate) number either.
  for (const key of [`phone-code:${userId}`, `phone-code-to:${phone}`]) {
    const { count, windowStartedAt } = await countInWindow(ctx.db, key, SEND_WINDOW_S, now);
    if (count > rules.maxSendsPerHour) {
      const retry = retryAfterSeconds(windowStartedAt, SEND_WINDOW_S, now);
      return fail("PHONE_CODE_THROTTLED", `Too many codes sent: try again in ${retry} s.`, { retryAfterSeconds: retry });
    }
  }
  const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
  const fields = { e164: phone, verifiedAt: null, codeHash: hashToken(code), codeExpiresAt: new Date(now.getTime() + rules.codeTtlMinutes * 60_000), codeAttempts: 0, updatedAt: now };
  const [row] = await ctx.db
    .insert(phoneNumbers)
    .values({ userId, ...fields, createdAt: now })
    .onConflictDoUpdate({ target: phoneNumbers.userId, set: fields })
    .returning();
  const text = (codeText[user?.locale ?? "en"] ?? codeText.en)!(code, rules.codeTtlMinutes);
  await recordSms(ctx, { userId, to: phone, text, expiresAt: fields.codeExpiresAt });
  if (current?.e164 !== phone) {
    await recordAudit(ctx, { action: "user.phone-changed", targetType: "user", targetId: userId, details: { phone: maskPhone(phone), previous: current ? maskPhone(current.e164) : null } });
  }
  return ok(view(row!));
}

/**
 * Checks a code against the pending one: the comparison is constant-time, every wrong code counts (committed
 * with the answer), and after `maxAttempts` wrong ones the code is dead. The right code verifies the number.
 */
export async function verifyPhone(ctx: DomainContext, userId: string, code: string, rules: PhoneRules): Promise<Result<PhoneView, PhoneErrorCode>> {
  const now = ctx.now();
  const [row] = await ctx.db.select().from(phoneNumbers).where(eq(phoneNumbers.userId, userId)).for("update");
  if (!row) return fail("PHONE_NOT_FOUND");
  if (row.verifiedAt) return fail("PHONE_ALREADY_VERIFIED");
  if (!row.codeHash || !row.codeExpiresAt) return fail("PHONE_CODE_EXPIRED");
  if (row.codeAttempts >= rules.maxAttempts) return fail("PHONE_CODE_ATTEMPTS_EXCEEDED", "Too many wrong codes: put the number again for a new code.");
  if (row.codeExpiresAt <= now) return fail("PHONE_CODE_EXPIRED");
  const given = Buffer.from(hashToken(code));
  const stored = Buffer.from(row.codeHash);
  if (given.length !== stored.length || !timingSafeEqual(given, stored)) {
    const attempts = row.codeAttempts + 1;
    await ctx.db.update(phoneNumbers).set({ codeAttempts: attempts, updatedAt: now }).where(eq(phoneNumbers.userId, userId));
    return fail("PHONE_CODE_INVALID", undefined, { triesLeft: Math.max(0, rules.maxAttempts - attempts) });
  }
  const [verified] = await ctx.db
    .update(phoneNumbers)
    .set({ verifiedAt: now, codeHash: null, codeExpiresAt: null, codeAttempts: 0, updatedAt: now })
    .where(eq(phoneNumbers.userId, userId))
    .returning();
  await recordAudit(ctx, { action: "user.phone-verified", targetType: "user", targetId: userId, details: { phone: maskPhone(row.e164) } });
  return ok(view(verified!));
}

/** Removes the user's number: SMS still pending to it are dropped when their turn comes. False when there was none. */
export async function removePhone(ctx: DomainContext, userId: string): Promise<boolean> {
  const [removed] = await ctx.db.delete(phoneNumbers).where(eq(phoneNumbers.userId, userId)).returning({ e164: phoneNumbers.e164 });
  if (!removed) return false;
  await recordAudit(ctx, { action: "user.phone-removed", targetType: "user", targetId: userId, details: { phone: maskPhone(removed.e164) } });
  return true;
}
