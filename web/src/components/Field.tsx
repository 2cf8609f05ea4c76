import type { ComponentChildren, InputHTMLAttributes, PartialInputHTMLAttributes } from "preact";
import { useId } from "preact/hooks";

type InputProps = Omit<PartialInputHTMLAttributes<HTMLInputElement>, "id" | "label">;

/**
 * A labelled input with its hint and error wired through aria-describedby (and aria-invalid when in error), so
 * screen readers read them with the field.
 */
export function Field({ label, hint, error, ...input }: InputProps & { label: ComponentChildren; hint?: string; error?: string | null }) {
  const id = useId();
  const described = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ") || undefined;
  return (
    <label for={id}>
      {label}
      {/* Preact types <input> as a union by `type`; the props are the partial form of the same attributes. */}
      <input id={id} aria-describedby={described} aria-invalid={error ? true : undefined} {...(input as InputHTMLAttributes<HTMLInputElement>)} />
      {hint ? <small id={`${id}-hint`}>{hint}</small> : null}
      {error ? (
        <small id={`${id}-error`} class="field-error">
          {error}
        </small>
      ) : null}
    </label>
  );
}

/** The error of one field from a problem's field errors (`body.email` → the email field). */
export function fieldError(problem: { errors?: { path: string; message: string }[] } | null, path: string): string | null {
  return problem?.errors?.find((e) => e.path === path)?.message ?? null;
}
