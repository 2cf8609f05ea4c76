import { useEffect, useRef, useState } from "preact/hooks";

/**
 * A destructive action in two steps: the first button asks, the second (focused, so Enter confirms from the
 * keyboard) does it; Cancel goes back. Inline rather than window.confirm, so the question is part of the page.
 */
export function ConfirmButton({ label, name, question, confirmLabel, pending, onConfirm }: { label: string; /** The accessible name when `label` alone is ambiguous (a button per row). */ name?: string; question: string; confirmLabel: string; pending?: boolean; onConfirm: () => unknown }) {
  const [asking, setAsking] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirm.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" class="secondary" aria-label={name} disabled={pending} aria-busy={pending} onClick={() => setAsking(true)}>
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
        onClick={() => {
          setAsking(false);
          void onConfirm();
        }}
      >
        {confirmLabel}
      </button>{" "}
      <button type="button" class="secondary outline" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </div>
  );
}
