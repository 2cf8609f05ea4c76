import { useState } from "preact/hooks";
import { api, problemOf } from "../../api/client";
import { putToBlob } from "../../lib/upload";
import type { Answer, Item } from "./answers";

interface Props {
  attemptId: string;
  item: Item;
  number: number;
  answer: Answer | undefined;
  disabled: boolean;
  /** A new answer; `now` saves at once (a finished upload) instead of after the typing pause. */
  onAnswer: (answer: Answer, now?: boolean) => void;
}

/** One item of an attempt, in a fieldset whose legend names it; the control fits the item's type. */
export function ItemAnswer({ attemptId, item, number, answer, disabled, onAnswer }: Props) {
  const base = `item-${item.id}`;
  const promptId = `${base}-prompt`;
  return (
    // The prompt describes the whole group, so a screen reader names the question with each choice's radio/checkbox.
    <fieldset class="attempt-item" data-item-id={item.id} aria-describedby={item.prompt && (item.type === "single" || item.type === "multiple" || item.type === "true-false") ? promptId : undefined}>
      <legend>
        Question {number} <span class="muted">({item.points} {item.points === 1 ? "point" : "points"})</span>
      </legend>
      {item.prompt ? (
        <p id={promptId} class="prompt">
          {item.prompt}
        </p>
      ) : null}
      {item.type === "single" || item.type === "true-false" ? (
        (item.type === "single" ? item.choices : [{ id: "true", text: "True" }, { id: "false", text: "False" }]).map((c) => {
          const value = item.type === "true-false" ? c.id === "true" : c.id;
          return (
            <label key={c.id}>
              <input type="radio" name={base} checked={answer === value} disabled={disabled} onChange={() => onAnswer(value, true)} />
              {c.text}
            </label>
          );
        })
      ) : item.type === "multiple" ? (
        item.choices.map((c) => {
          const chosen = Array.isArray(answer) ? answer : [];
          return (
            <label key={c.id}>
              <input
                type="checkbox"
                name={base}
                checked={chosen.includes(c.id)}
                disabled={disabled}
                onChange={(e) => onAnswer(e.currentTarget.checked ? [...chosen, c.id] : chosen.filter((x) => x !== c.id), true)}
              />
              {c.text}
            </label>
          );
        })
      ) : item.type === "numeric" ? (
        <NumericAnswer answer={answer} disabled={disabled} promptId={item.prompt ? promptId : undefined} onAnswer={onAnswer} />
      ) : item.type === "short-text" ? (
        <label>
          Your answer
          <input type="text" value={typeof answer === "string" ? answer : ""} disabled={disabled} aria-describedby={item.prompt ? promptId : undefined} onInput={(e) => onAnswer(e.currentTarget.value)} />
        </label>
      ) : item.type === "essay" ? (
        <label>
          Your answer
          <textarea rows={8} value={typeof answer === "string" ? answer : ""} disabled={disabled} aria-describedby={item.prompt ? promptId : undefined} onInput={(e) => onAnswer(e.currentTarget.value)} />
        </label>
      ) : (
        <FileAnswer attemptId={attemptId} item={item} answer={answer} disabled={disabled} promptId={item.prompt ? promptId : undefined} onAnswer={onAnswer} />
      )}
    </fieldset>
  );
}

/**
 * A number, kept as the typed text: "3." on the way to "3.5" must stay on screen, so only a whole number is sent
 * up (and an emptied field clears the answer). Text that is not a number (or "1,000", which could mean a thousand
 * or one) is marked invalid and not saved; a decimal comma alone ("3,5") is read as a point.
 */
function NumericAnswer({ answer, disabled, promptId, onAnswer }: Pick<Props, "answer" | "disabled" | "onAnswer"> & { promptId: string | undefined }) {
  const [text, setText] = useState(typeof answer === "number" ? String(answer) : "");
  const invalid = text.trim() !== "" && parseNumber(text) === null;
  const errorId = `${promptId ?? "numeric"}-error`;
  return (
    <>
      <label>
        Your answer (a number)
        <input
          type="text"
          inputMode="decimal"
          value={text}
          disabled={disabled}
          aria-invalid={invalid || undefined}
          aria-describedby={[promptId, invalid ? errorId : undefined].filter(Boolean).join(" ") || undefined}
          onInput={(e) => {
            const value = e.currentTarget.value;
            setText(value);
            const n = parseNumber(value);
            if (value.trim() === "") onAnswer(null);
            else if (n !== null) onAnswer(n);
          }}
        />
      </label>
      {invalid ? (
        <p id={errorId} class="field-error">
          Not a number: not saved.
        </p>
      ) : null}
    </>
  );
}

/** A file answer: the API grants an upload, the file goes straight to Blob, and its blob name is the answer. */
function FileAnswer({ attemptId, item, answer, disabled, promptId, onAnswer }: Omit<Props, "number"> & { promptId: string | undefined }) {
  const [status, setStatus] = useState<{ text: string; failed: boolean } | null>(null);
  const upload = async (file: File) => {
    setStatus({ text: `Uploading ${file.name}…`, failed: false });
    const { data, error, response } = await api.POST("/v1/attempts/{attemptId}/files", {
      params: { path: { attemptId } },
      body: { itemId: item.id, fileName: file.name, contentType: file.type || "application/octet-stream", sizeBytes: file.size },
    });
    if (!data) {
      const problem = problemOf(error, response);
      setStatus({ text: `Not uploaded: ${problem.detail ?? problem.title}`, failed: true });
      return;
    }
    try {
      await putToBlob(data, file, (share) => setStatus({ text: `Uploading ${file.name}: ${Math.round(share * 100)}%`, failed: false }));
    } catch (e) {
      setStatus({ text: `Not uploaded: ${e instanceof Error ? e.message : "storage refused the file"}`, failed: true });
      return;
    }
    onAnswer(data.blobName, true);
    setStatus({ text: `Uploaded ${file.name}.`, failed: false });
  };
  const current = typeof answer === "string" && answer !== "";
  return (
    <>
      <label>
        {current ? "Replace your file" : "Your file"}
        <input
          type="file"
          disabled={disabled}
          aria-describedby={promptId}
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            if (file) void upload(file);
          }}
        />
      </label>
      {current ? <p class="muted">A file is saved for this question.</p> : null}
      {status ? (
        status.failed ? (
          <p role="alert">{status.text}</p>
        ) : (
          <p role="status">{status.text}</p>
        )
      ) : null}
    </>
  );
}

/** A typed number: digits with one decimal point or one decimal comma; null for anything else ("abc", "1,000.5"). */
export function parseNumber(text: string): number | null {
  const t = text.trim();
  if (!/^[-+]?(\d+([.,]\d*)?|[.,]\d+)$/.test(t)) return null;
  // "1,000" reads as a thousand in some locales and as one in others: ambiguous, so not taken.
  if (/^[-+]?\d+,\d{3}$/.test(t)) return null;
  const n = Number(t.replace(",", "."));
  return Number.isFinite(n) ? n : null;
}
