/**
 * A value loaded on its first use (an SDK imported late, a client opened late) and shared after. A failed load is
 * forgotten, so the next use tries again rather than failing for the life of the instance.
 */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    if (!loading) {
      const attempt = load();
      loading = attempt;
      attempt.catch(() => {
        if (loading === attempt) loading = undefined;
      });
    }
    return loading;
  };
}
