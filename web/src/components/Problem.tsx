import type { Problem as ProblemBody } from "../api/client";

/** A problem+json answer, for people: its title and detail, and each field error with where it is. */
export function Problem({ problem }: { problem: ProblemBody | null }) {
  if (!problem) return null;
  return (
    <div role="alert" class="problem">
      <strong>{problem.title}</strong>
      {problem.detail ? <p>{problem.detail}</p> : null}
      {problem.errors?.length ? (
        <ul>
          {problem.errors.map((e) => (
            <li key={`${e.path}:${e.message}`}>
              <code>{e.path}</code>: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
