import { useId } from "preact/hooks";
import type { Schemas } from "../../api/client";

/** A grader's choice on one criterion: a level, or free points, and a comment. */
export interface CriterionChoice {
  criterionId: string;
  levelId?: string | null;
  points?: number | null;
  comment: string;
}

/** Scores one item by its rubric: a radio group of levels per criterion (or a number for free points). */
export function RubricScorer({ rubric, value, onChange }: { rubric: Schemas["Rubric"]; value: CriterionChoice[]; onChange: (next: CriterionChoice[]) => void }) {
  const id = useId();
  const choiceOf = (criterionId: string) => value.find((c) => c.criterionId === criterionId) ?? { criterionId, comment: "" };
  const set = (next: CriterionChoice) => onChange([...value.filter((c) => c.criterionId !== next.criterionId), next]);
  return (
    <div>
      <p>
        Rubric: <strong>{rubric.title}</strong>
      </p>
      {rubric.criteria.map((criterion, n) => {
        const choice = choiceOf(criterion.id);
        return (
          <fieldset key={criterion.id}>
            <legend>{criterion.title}</legend>
            {criterion.kind === "levels" ? (
              criterion.levels.map((level) => (
                <label key={level.id}>
                  <input type="radio" name={`${id}-${n}`} required checked={choice.levelId === level.id} onChange={() => set({ ...choice, levelId: level.id, points: null })} />
                  {level.title} ({level.points} points)
                </label>
              ))
            ) : (
              <label for={`${id}-${n}-points`}>
                Points (out of {criterion.maxPoints})
                <input
                  id={`${id}-${n}-points`}
                  type="number"
                  min={0}
                  max={criterion.maxPoints}
                  step="any"
                  value={choice.points ?? ""}
                  onInput={(e) => set({ ...choice, points: e.currentTarget.value === "" ? null : Number(e.currentTarget.value) })}
                />
              </label>
            )}
            <label for={`${id}-${n}-comment`}>
              Comment on {criterion.title}
              <input id={`${id}-${n}-comment`} type="text" value={choice.comment} onInput={(e) => set({ ...choice, comment: e.currentTarget.value })} />
            </label>
          </fieldset>
        );
      })}
    </div>
  );
}
