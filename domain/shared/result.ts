/** An expected outcome that is not success: a stable code, and only non-sensitive details. */
export interface DomainError<C extends string = string> {
  code: C;
  detail?: string;
  /** Extra members for the problem body (e.g. `retryAfterSeconds`, `missing`). */
  extensions?: Record<string, unknown>;
}

export type Result<T, C extends string> = { ok: true; value: T } | { ok: false; error: DomainError<C> };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });

export const fail = <C extends string>(code: C, detail?: string, extensions?: Record<string, unknown>): { ok: false; error: DomainError<C> } => ({
  ok: false,
  error: { code, ...(detail ? { detail } : {}), ...(extensions ? { extensions } : {}) },
});
