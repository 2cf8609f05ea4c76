import type { ComponentChildren } from "preact";
import { useLocation } from "preact-iso";
import { useEffect, useRef } from "preact/hooks";

/**
 * One page: its title in the tab and as the only h1. Focus moves to the heading when the page opens (or the
 * address changes under it), so keyboard and screen-reader users start at the new page's top after a client-side
 * navigation; a title that changes later (loaded in a second request, or renamed) does not take the focus back.
 */
export function Page({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const { path } = useLocation();
  useEffect(() => {
    document.title = `${title} · Ringlet`;
  }, [title]);
  useEffect(() => {
    heading.current?.focus({ preventScroll: false });
  }, [path]);
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
