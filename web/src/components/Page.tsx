import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

/**
 * One page: its title in the tab and as the only h1. Focus moves to the heading when the page opens, so keyboard
 * and screen-reader users start at the new page's top after a client-side navigation.
 */
export function Page({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Ringlet`;
    heading.current?.focus({ preventScroll: false });
  }, [title]);
  return (
    <>
      <div class="page-heading">
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {actions ? <div class="page-actions">{actions}</div> : null}
      </div>
      {children}
    </>
  );
}
