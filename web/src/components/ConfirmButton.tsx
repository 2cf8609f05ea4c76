import "./confirm-button.css";
import { useEffect, useRef, useState } from "preact/hooks";

/**
 * A destructive action in two steps: the first button asks, the second (focused, so Enter confirms from the
 * keyboard) does it; Cancel goes back. Inline rather than window.confirm, so the question is part of the page.
 * Focus never falls to <body>: Cancel returns it to the opening button, and a confirm moves it to the opening
 * button while the action runs, then to `focusAfter` (the status that reports the result) when one is given.
 */
export function ConfirmButton({
  label,
  name,
  question,
  confirmLabel,
  pending,
  onConfirm,
  focusAfter,
}: {
  label: string;
  /** The accessible name when `label` alone is ambiguous (a button per row). */
  name?: string;
  question: string;
  confirmLabel: string;
  pending?: boolean;
  onConfirm: () => unknown;
  /** Where focus goes once the action has finished (a `role="status"` with `tabIndex={-1}`). */
  focusAfter?: { current: HTMLElement | null };
}) {
  const [asking, setAsking] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  // What to focus after the next render: the confirm button when asking, the opener when back.
  const [focusTarget, setFocusTarget] = useState<"confirm" | "opener" | null>(null);
  useEffect(() => {
    if (focusTarget === "confirm") confirm.current?.focus();
    if (focusTarget === "opener") opener.current?.focus();
    if (focusTarget) setFocusTarget(null);
  }, [focusTarget]);
  if (!asking) {
    return (
      <button
        type="button"
        ref={opener}
        class="secondary"
        aria-label={name}
        // aria-disabled, not disabled: a disabled button cannot hold focus while the action runs.
        aria-disabled={pending || undefined}
        aria-busy={pending}
        onClick={() => {
          if (pending) return;
          setAsking(true);
          setFocusTarget("confirm");
        }}
      >
        {label}
      </button>
    );
  }
  return (
    <div role="group" aria-label={question} class="confirm">
      <p>{question}</p>
      <button
        type="button"
        ref={confirm}
        class="contrast"
        onClick={async () => {
          setAsking(false);
          setFocusTarget("opener");
          await onConfirm();
          // The result is on screen by now; the opener may be gone with its row.
          if (focusAfter?.current?.isConnected) focusAfter.current.focus();
        }}
      >
        {confirmLabel}
      </button>{" "}
      <button
        type="button"
        class="secondary outline"
        onClick={() => {
          setAsking(false);
          setFocusTarget("opener");
        }}
      >
        Cancel
      </button>
    </div>
  );
}
