import { useState } from "preact/hooks";
import type { Problem as ProblemBody, Schemas } from "../../api/client";
import { Field, fieldError } from "../../components/Field";

/** The settings an instructor edits, as the create and update routes take them. */
export interface CourseSettings {
  title: string;
  code: string | null;
  description: string;
  language: string;
  capacity: number | null;
  waitlistEnabled: boolean;
  selfEnrollment: boolean;
  passPercent: number;
}

export function settingsOf(course: Schemas["Course"] | null): CourseSettings {
  return {
    title: course?.title ?? "",
    code: course?.code ?? null,
    description: course?.description ?? "",
    language: course?.language ?? "en",
    capacity: course?.capacity ?? null,
    waitlistEnabled: course?.waitlistEnabled ?? true,
    selfEnrollment: course?.selfEnrollment ?? true,
    passPercent: course?.passPercent ?? 60,
  };
}

/** The course settings form of both the new-course and the manage pages; the server validates, errors show per field. */
export function CourseSettingsForm({
  initial,
  submitLabel,
  pending,
  problem,
  onSubmit,
}: {
  initial: CourseSettings;
  submitLabel: string;
  pending: boolean;
  problem: ProblemBody | null;
  onSubmit: (settings: CourseSettings) => void;
}) {
  const [s, setS] = useState(initial);
  const set = <K extends keyof CourseSettings>(key: K, value: CourseSettings[K]) => setS((old) => ({ ...old, [key]: value }));
  const descriptionError = fieldError(problem, "body.description");
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit(s);
      }}
    >
      <Field label="Title" name="title" required value={s.title} error={fieldError(problem, "body.title")} onInput={(e) => set("title", e.currentTarget.value)} />
      <Field
        label="Code (optional)"
        name="code"
        hint="Letters, digits, dot, dash or underscore, e.g. CS-101"
        value={s.code ?? ""}
        error={fieldError(problem, "body.code")}
        onInput={(e) => set("code", e.currentTarget.value.trim() || null)}
      />
      <label for="course-description">
        Description
        <textarea
          id="course-description"
          name="description"
          rows={4}
          value={s.description}
          aria-invalid={descriptionError ? true : undefined}
          onInput={(e) => set("description", e.currentTarget.value)}
        />
        {descriptionError ? <small class="field-error">{descriptionError}</small> : null}
      </label>
      <div class="grid">
        <Field label="Language" name="language" hint="A language tag: en, es, pt-BR" value={s.language} error={fieldError(problem, "body.language")} onInput={(e) => set("language", e.currentTarget.value)} />
        <Field
          label="Capacity"
          name="capacity"
          type="number"
          min={0}
          hint="Empty: unlimited"
          value={s.capacity ?? ""}
          error={fieldError(problem, "body.capacity")}
          onInput={(e) => set("capacity", e.currentTarget.value === "" ? null : Number(e.currentTarget.value))}
        />
        <Field
          label="Pass mark (%)"
          name="passPercent"
          type="number"
          min={0}
          max={100}
          value={s.passPercent}
          error={fieldError(problem, "body.passPercent")}
          onInput={(e) => set("passPercent", Number(e.currentTarget.value))}
        />
      </div>
      <fieldset>
        <legend>Enrollment</legend>
        <label>
          <input type="checkbox" name="selfEnrollment" checked={s.selfEnrollment} onChange={(e) => set("selfEnrollment", e.currentTarget.checked)} />
          Learners may enroll themselves
        </label>
        <label>
          <input type="checkbox" name="waitlistEnabled" checked={s.waitlistEnabled} onChange={(e) => set("waitlistEnabled", e.currentTarget.checked)} />
          Waitlist when the course is full
        </label>
      </fieldset>
      <button type="submit" aria-busy={pending} disabled={pending}>
        {submitLabel}
      </button>
    </form>
  );
}
