import type { ComponentChildren } from "preact";

/**
 * A wide table's sideways-scrolling box (the `.table-scroll` style). Focusable and named, so keyboard users can
 * scroll it too and screen readers say what it holds (axe: scrollable-region-focusable).
 */
export function TableScroll({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}
