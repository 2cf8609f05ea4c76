import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { problemOf, type Problem } from "../api/client";

/** What a typed client call answers (openapi-fetch's `{ data, error, response }`). */
export interface CallResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

export interface ApiState<T> {
  data: T | null;
  problem: Problem | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads data with a typed client call when the component mounts and whenever `deps` change; a later answer
 * replaces an earlier one only if it belongs to the latest call (no stale page after fast navigation).
 */
export function useApi<T>(call: () => Promise<CallResult<T>>, deps: unknown[]): ApiState<T> {
  const [state, setState] = useState<Omit<ApiState<T>, "reload">>({ data: null, problem: null, loading: true });
  const latest = useRef(0);
  const load = useCallback(() => {
    const id = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    call()
      .then(({ data, error, response }) => {
        if (id !== latest.current) return;
        if (data !== undefined && !error) setState({ data, problem: null, loading: false });
        else setState({ data: null, problem: problemOf(error, response), loading: false });
      })
      .catch(() => {
        if (id === latest.current) setState({ data: null, problem: problemOf(null), loading: false });
      });
  }, deps);
  useEffect(load, [load]);
  return { ...state, reload: load };
}

/**
 * Runs a typed client call from a form or button: `pending` while it runs, the problem when it fails. Returns the
 * data, or null when the call failed (the problem is then shown by the caller's <Problem>).
 */
export function useAction(): {
  pending: boolean;
  problem: Problem | null;
  run: <T>(call: () => Promise<CallResult<T>>) => Promise<T | null>;
  clear: () => void;
} {
  const [pending, setPending] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const run = useCallback(async <T,>(call: () => Promise<CallResult<T>>): Promise<T | null> => {
    setPending(true);
    setProblem(null);
    try {
      const { data, error, response } = await call();
      if (error || !response.ok) {
        setProblem(problemOf(error, response));
        return null;
      }
      return (data ?? ({} as T)) as T;
    } catch {
      setProblem(problemOf(null));
      return null;
    } finally {
      setPending(false);
    }
  }, []);
  return { pending, problem, run, clear: () => setProblem(null) };
}
