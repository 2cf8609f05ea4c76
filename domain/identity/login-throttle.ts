import { inArray, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { loginThrottles } from "../db/schema/index.js";

export interface ThrottlePolicy {
  windowSeconds: number;
  /** Failures per account within the window before the account is locked. */
  maxFailuresPerAccount: number;
  /** Failures per client address within the window before the address is locked. */
  maxFailuresPerAddress: number;
  /** First lock; each further failure doubles it, up to maxLockSeconds. */
  baseLockSeconds: number;
  maxLockSeconds: number;
  /** From this many failures on, each failed answer is delayed (0.5 s per failure past it, at most 3 s). */
  slowAfter: number;
}

export const throttleKeys = (email: string, clientIp: string | null): string[] =>
  [`account:${email}`, ...(clientIp ? [`ip:${clientIp}`] : [])];

/** Seconds until every key is unlocked, or 0 when none is locked now. */
export async function lockedFor(db: Executor, keys: string[], now: Date): Promise<number> {
  const rows = await db.select({ lockedUntil: loginThrottles.lockedUntil }).from(loginThrottles).where(inArray(loginThrottles.key, keys));
  const until = Math.max(0, ...rows.map((r) => r.lockedUntil?.getTime() ?? 0));
  return until > now.getTime() ? Math.ceil((until - now.getTime()) / 1000) : 0;
}

export interface FailureOutcome {
  /** Highest failure count among the keys after this failure. */
  failures: number;
  /** Seconds of lock this failure started (0 when it locked nothing). */
  lockedSeconds: number;
}

/**
 * Counts one occurrence against `key`, restarting the count once `windowSeconds` have passed since the window
 * started. Atomic (one upsert), so concurrent occurrences all count. Shared by the sign-in failures, the
 * password-reset requests and the once-an-hour notices, each under its own key prefix.
 */
export async function countInWindow(db: Executor, key: string, windowSeconds: number, now: Date): Promise<{ count: number; windowStartedAt: Date }> {
  // Raw sql fragments do not map Date parameters; pass ISO strings cast to timestamptz.
  const windowStart = sql`${new Date(now.getTime() - windowSeconds * 1000).toISOString()}::timestamptz`;
  const nowValue = sql`${now.toISOString()}::timestamptz`;
  const [row] = await db
    .insert(loginThrottles)
    .values({ key, failures: 1, windowStartedAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: loginThrottles.key,
      set: {
        failures: sql`case when ${loginThrottles.windowStartedAt} < ${windowStart} then 1 else ${loginThrottles.failures} + 1 end`,
        windowStartedAt: sql`case when ${loginThrottles.windowStartedAt} < ${windowStart} then ${nowValue} else ${loginThrottles.windowStartedAt} end`,
        updatedAt: now,
      },
    })
    .returning({ count: loginThrottles.failures, windowStartedAt: loginThrottles.windowStartedAt });
  return { count: row?.count ?? 1, windowStartedAt: row?.windowStartedAt ?? now };
}

/** Seconds until a window that started at `windowStartedAt` ends (at least 1: the Retry-After value). */
export function retryAfterSeconds(windowStartedAt: Date, windowSeconds: number, now: Date): number {
  return Math.max(1, Math.ceil((windowStartedAt.getTime() + windowSeconds * 1000 - now.getTime()) / 1000));
}

/**
 * Counts one failure against each key (concurrent failures all count), restarting the count when the window has
 * passed, and locks a key with an exponentially growing lock once it is over its limit.
 */
export async function recordLoginFailure(db: Executor, keys: string[], policy: ThrottlePolicy, now: Date): Promise<FailureOutcome> {
  let failures = 0;
  let lockedSeconds = 0;
  for (const key of keys) {
    // "account:<email>" and "totp:<user id>" count against one account; "ip:" keys against an address.
    const limit = key.startsWith("ip:") ? policy.maxFailuresPerAddress : policy.maxFailuresPerAccount;
    const { count } = await countInWindow(db, key, policy.windowSeconds, now);
    failures = Math.max(failures, count);
    if (count >= limit) {
      const seconds = Math.min(policy.baseLockSeconds * 2 ** (count - limit), policy.maxLockSeconds);
      await db
        .update(loginThrottles)
        .set({ lockedUntil: new Date(now.getTime() + seconds * 1000) })
        .where(inArray(loginThrottles.key, [key]));
      lockedSeconds = Math.max(lockedSeconds, seconds);
    }
  }
  return { failures, lockedSeconds };
}

/** A successful sign-in clears the account's count; the address keeps its own. */
export async function clearAccountFailures(db: Executor, email: string): Promise<void> {
  await db.delete(loginThrottles).where(inArray(loginThrottles.key, [`account:${email}`]));
}

export const slowDownMs = (failures: number, policy: ThrottlePolicy): number =>
  failures < policy.slowAfter ? 0 : Math.min(500 * (failures - policy.slowAfter + 1), 3000);

/** A correct second factor clears the user's wrong-code count. */
export async function clearKeys(db: Executor, keys: string[]): Promise<void> {
  await db.delete(loginThrottles).where(inArray(loginThrottles.key, keys));
}
