import { useEffect, useRef, useState } from "preact/hooks";

/**
 * Moves focus to a status element (give it `role="status"` and `tabIndex={-1}`). For actions that remove or
 * disable the control that was focused: otherwise focus falls to <body> and a keyboard or screen-reader user
 * starts again from the top of the page.
 */
export function focusStatus(element: HTMLElement | null | undefined): void {
  if (element?.isConnected) element.focus();
}

/**
 * `ref` goes on the status element; `focusAfter()` (called when the action's result is set) focuses it once the
 * next render has shown the result.
 */
export function useFocusAfterAction<T extends HTMLElement = HTMLElement>(): { ref: { current: T | null }; focusAfter: () => void } {
  const ref = useRef<T>(null);
  const [requested, setRequested] = useState(0);
  useEffect(() => {
    if (requested) focusStatus(ref.current);
  }, [requested]);
  return { ref, focusAfter: () => setRequested((n) => n + 1) };
}
