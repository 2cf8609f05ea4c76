import { useId } from "preact/hooks";
import { Field } from "../../components/Field";
import { type ItemDraft, type ItemType, itemTypes } from "./assessment-items";

/** One item of the assessment form: its type, prompt and points, then the answer key its type takes. */
export function ItemEditor({ index, item, onChange, onRemove }: { index: number; item: ItemDraft; onChange: (item: ItemDraft) => void; onRemove: () => void }) {
  const id = useId();
  const set = <K extends keyof ItemDraft>(key: K, value: ItemDraft[K]) => onChange({ ...item, [key]: value });
  const hasChoices = item.type === "single" || item.type === "multiple";
  const toggleCorrect = (i: number, on: boolean) => {
    if (item.type === "single") set("correct", [i]);
    else set("correct", on ? [...item.correct, i].sort() : item.correct.filter((c) => c !== i));
  };
  return (
    <fieldset class="item-editor" aria-labelledby={`${id}-legend`}>
      <legend id={`${id}-legend`}>
        <strong>Item {index + 1}</strong>
      </legend>
      <div class="grid">
        <label for={`${id}-type`}>
          Type
          <select id={`${id}-type`} value={item.type} onChange={(e) => set("type", e.currentTarget.value as ItemType)}>
            {itemTypes.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
        <Field label="Points" type="number" min={0.5} step={0.5} required value={item.points} onInput={(e) => set("points", Number(e.currentTarget.value))} />
      </div>
      <label for={`${id}-prompt`}>
        Question
        <textarea id={`${id}-prompt`} rows={2} required value={item.prompt} onInput={(e) => set("prompt", e.currentTarget.value)} />
      </label>
      {hasChoices ? (
        <fieldset>
          <legend>Choices (mark the correct {item.type === "single" ? "one" : "ones"})</legend>
          {item.choices.map((text, i) => (
            <div key={i} class="choice-row">
              <input
                type={item.type === "single" ? "radio" : "checkbox"}
                name={`${id}-correct`}
                id={`${id}-correct-${i}`}
                checked={item.correct.includes(i)}
                onChange={(e) => toggleCorrect(i, e.currentTarget.checked)}
              />
              <label for={`${id}-correct-${i}`} class="visually-hidden">
                Choice {i + 1} is correct
              </label>
              <input
                type="text"
                aria-label={`Choice ${i + 1} text`}
                required
                value={text}
                onInput={(e) => set(
                  "choices",
                  item.choices.map((c, j) => (j === i ? e.currentTarget.value : c)),
                )}
              />
            </div>
          ))}
          {item.choices.length < 26 ? (
            <button type="button" class="secondary outline" onClick={() => set("choices", [...item.choices, ""])}>
              Add a choice<span class="visually-hidden"> to item {index + 1}</span>
            </button>
          ) : null}
          {item.type === "multiple" ? (
            <label for={`${id}-partial`}>
              Partial credit
              <select id={`${id}-partial`} value={item.partialCredit} onChange={(e) => set("partialCredit", e.currentTarget.value as ItemDraft["partialCredit"])}>
                <option value="all-or-nothing">All or nothing</option>
                <option value="per-choice">Per choice</option>
                <option value="right-minus-wrong">Right minus wrong</option>
              </select>
            </label>
          ) : null}
        </fieldset>
      ) : null}
      {item.type === "true-false" ? (
        <label for={`${id}-tf`}>
          Correct answer
          <select id={`${id}-tf`} value={String(item.trueFalse)} onChange={(e) => set("trueFalse", e.currentTarget.value === "true")}>
            <option value="true">True</option>
            <option value="false">False</option>
          </select>
        </label>
      ) : null}
      {item.type === "numeric" ? (
        <div class="grid">
          <Field label="Correct number" type="number" step="any" required value={item.number} onInput={(e) => set("number", e.currentTarget.value)} />
          <Field label="Tolerance (±)" type="number" step="any" min={0} hint="Empty: exactly" value={item.tolerance} onInput={(e) => set("tolerance", e.currentTarget.value)} />
        </div>
      ) : null}
      {item.type === "short-text" ? (
        <label for={`${id}-accepted`}>
          Accepted answers, one a line
          <textarea id={`${id}-accepted`} rows={2} required value={item.accepted} onInput={(e) => set("accepted", e.currentTarget.value)} />
          <small>Compared without case, accents or extra spaces.</small>
        </label>
      ) : null}
      {item.type === "essay" || item.type === "file" ? <p class="muted">A grader scores this item by hand.</p> : null}
      <button type="button" class="secondary outline" onClick={onRemove}>
        Remove item {index + 1}
      </button>
    </fieldset>
  );
}
