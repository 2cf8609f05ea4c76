import { useEffect, useRef, useState } from "preact/hooks";

/**
 * A new endpoint's signing secret, shown once: the API never returns it again, so it is said plainly and the
 * box takes the focus (a screen reader reads it at once); a copy button puts it on the clipboard.
 */
export function SecretOnce({ id, url, secret, onDone }: { id: string; url: string; secret: string; onDone: () => void }) {
  const box = useRef<HTMLElement>(null);
  const [copied, setCopied] = useState("");
  useEffect(() => box.current?.focus(), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied("Copying failed: select the secret and copy it by hand.");
    }
  };
  return (
    <article ref={box} tabIndex={-1} aria-labelledby="secret-heading" class="secret-once">
      <h2 id="secret-heading" class="break">Signing secret of {url}</h2>
      <p>
        <strong>Copy it now: you will not see it again.</strong> Receivers check each delivery's signature with it.
      </p>
      <label for="webhook-secret">
        Signing secret
        <input id="webhook-secret" readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <button type="button" onClick={() => void copy()}>
        Copy secret
      </button>{" "}
      <a href={`/administration/webhooks/${id}`}>Open the endpoint</a>{" "}
      <button type="button" class="secondary outline" onClick={onDone}>
        I have saved it
      </button>
      <p role="status">{copied}</p>
    </article>
  );
}
