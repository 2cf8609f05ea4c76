import { useMemo } from "preact/hooks";

/**
 * An Idempotency-Key for a form's request: the same while the request stays the same, so a retry after a network
 * failure cannot create a second post or application; a new one once the request changes (an edit, or the form
 * cleared after success), so a different request is never answered with an earlier one's result.
 */
export function useIdempotencyKey(request: unknown): string {
  const text = JSON.stringify(request);
  return useMemo(() => crypto.randomUUID(), [text]);
}
