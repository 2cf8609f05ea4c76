/** A polite "loading" line; screen readers hear it once. */
export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p role="status" aria-busy="true">
      {what}…
    </p>
  );
}
