import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, problemOf } from "../../api/client";
import type { Answer } from "./answers";

export type SaveState = { kind: "idle" } | { kind: "saving" } | { kind: "saved"; at: Date } | { kind: "failed"; why: string };

/** How long typing may pause before the answers are saved. */
const debounceMs = 800;
/** How long before the deadline everything pending is sent, so that the last answers reach the server in time. */
const finalSaveMs = 3_000;

/**
 * Saves changed answers with PUT /v1/attempts/{id}/answers a moment after the last change, and at once when the
 * page is left (hidden, closed, or navigated away from inside the app). Only what changed since the last save is
 * sent; the server merges it over what it holds. `itemSeconds` (time spent per item) rides along with each save.
 * Near the deadline (`deadlineMs`, on this machine's clock) nothing waits for the pause: what is pending is sent a
 * few seconds before the end, and any change after that at once.
 */
export function useAutosave(attemptId: string, deadlineMs: number | null = null) {
  const [state, setState] = useState<SaveState>({ kind: "idle" });
  const pending = useRef<Record<string, Answer>>({});
  const seconds = useRef<Record<string, number>>({});
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const inFlight = useRef<Promise<boolean> | null>(null);

  const flush = useCallback(async (leaving = false): Promise<boolean> => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    // One save at a time, so an older save never lands after a newer one.
    if (inFlight.current) await inFlight.current;
    const answers = pending.current;
    const itemSeconds = Object.fromEntries(Object.entries(seconds.current).filter(([, s]) => s >= 1).map(([id, s]) => [id, Math.round(s)]));
    if (Object.keys(answers).length === 0 && Object.keys(itemSeconds).length === 0) return true;
    pending.current = {};
    for (const id of Object.keys(itemSeconds)) delete seconds.current[id];
    if (!leaving) setState({ kind: "saving" });
    const save = (async () => {
      try {
        // keepalive lets the save finish after the page is closed.
        const { error, response } = await api.PUT("/v1/attempts/{attemptId}/answers", { params: { path: { attemptId } }, body: { answers, itemSeconds }, keepalive: leaving });
        if (error || !response.ok) {
          const problem = problemOf(error, response);
          // A refused save (closed attempt, invalid answer) is not retried; a network failure is, with the next change.
          if (problem.code === "NETWORK_ERROR" || response.status >= 500) pending.current = { ...answers, ...pending.current };
          setState({ kind: "failed", why: problem.detail ?? problem.title });
          return false;
        }
        setState({ kind: "saved", at: new Date() });
        return true;
      } catch {
        pending.current = { ...answers, ...pending.current };
        setState({ kind: "failed", why: "the server could not be reached" });
        return false;
      }
    })();
    inFlight.current = save;
    try {
      return await save;
    } finally {
      inFlight.current = null;
    }
  }, [attemptId]);

  const change = useCallback(
    (itemId: string, answer: Answer, now = false) => {
      pending.current = { ...pending.current, [itemId]: answer };
      if (timer.current) clearTimeout(timer.current);
      const closing = deadlineMs !== null && deadlineMs - Date.now() - debounceMs < finalSaveMs;
      timer.current = setTimeout(() => void flush(), now || closing ? 0 : debounceMs);
    },
    [flush, deadlineMs],
  );

  // The final save: whatever is still waiting for a pause goes out before the deadline.
  useEffect(() => {
    if (deadlineMs === null) return;
    const wait = deadlineMs - Date.now() - finalSaveMs;
    if (wait < 0) return;
    const final = setTimeout(() => void flush(), wait);
    return () => clearTimeout(final);
  }, [deadlineMs, flush]);

  const addSeconds = useCallback((itemId: string, s: number) => {
    seconds.current[itemId] = (seconds.current[itemId] ?? 0) + s;
  }, []);

  useEffect(() => {
    const onHidden = () => {
      if (document.visibilityState === "hidden") void flush(true);
    };
    const onPageHide = () => void flush(true);
    document.addEventListener("visibilitychange", onHidden);
    window.addEventListener("pagehide", onPageHide);
    return () => {
      document.removeEventListener("visibilitychange", onHidden);
      window.removeEventListener("pagehide", onPageHide);
      // Leaving the page inside the app: what is pending is saved.
      void flush(true);
    };
  }, [flush]);

  return { state, change, flush, addSeconds };
}
