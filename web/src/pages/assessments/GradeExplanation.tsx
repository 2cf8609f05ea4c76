import { api } from "../../api/client";
import type { paths } from "../../api/schema";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { useApi } from "../../lib/use-api";
import { percentText } from "./answers";
import { TableScroll } from "../../components/TableScroll";

const stepLabel = { raw: "Raw score", late: "Late deduction", policy: "Attempts policy", contribution: "Course contribution" } as const;

const itemStatus = { auto: "Scored automatically", "needs-grader": "Waiting for a grader", graded: "Scored by a grader", unanswered: "Not answered" } as const;

type Explanation = paths["/v1/grades/{gradeId}/explanation"]["get"]["responses"][200]["content"]["application/json"];

function Rubric({ rubric }: { rubric: Explanation["items"][number]["rubric"] }) {
  if (!rubric) return null;
  return (
    <TableScroll label={`Rubric “${rubric.title}”`}>
      <table>
        <caption>
          Rubric “{rubric.title}”: {rubric.earned} of {rubric.max}
        </caption>
        <thead>
          <tr>
            <th scope="col">Criterion</th>
            <th scope="col">Level</th>
            <th scope="col">Points</th>
            <th scope="col">Feedback</th>
          </tr>
        </thead>
        <tbody>
          {rubric.criteria.map((c) => (
            <tr key={c.criterionId}>
              <th scope="row">{c.title}</th>
              <td>{c.level ?? "—"}</td>
              <td>
                {c.points} / {c.maxPoints}
              </td>
              <td>{c.comment || "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

/** How a grade was worked out: each item's score, then late deduction → attempts policy → course contribution. */
export default function GradeExplanation({ gradeId }: { gradeId: string }) {
  const explanation = useApi(() => api.GET("/v1/grades/{gradeId}/explanation", { params: { path: { gradeId } } }), [gradeId]);
  const e = explanation.data;
  return (
    <Page title="How the grade was worked out">
      {explanation.loading ? <Loading what="Loading the explanation" /> : null}
      <Problem problem={explanation.problem} />
      {e ? (
        <>
          <p>
            Grade: <strong>{percentText(e.percent)}</strong>
            {e.version > 1 ? ` (version ${e.version}, after a regrade)` : ""} · <a href={`/submissions/${e.submissionId}`}>See the submission</a>
          </p>
          <h2>Score per item</h2>
          <ol class="card-list" aria-label="Items">
            {e.items.map((item, i) => (
              <li key={item.itemId}>
                <article>
                  <h3>
                    Item {i + 1}: {item.points == null ? "—" : item.points} of {item.maxPoints} {item.maxPoints === 1 ? "point" : "points"}
                  </h3>
                  <p>
                    {itemStatus[item.status]}. {item.explanation}
                  </p>
                  {item.feedback ? (
                    <p>
                      <strong>Grader's feedback:</strong> {item.feedback}
                    </p>
                  ) : null}
                  <Rubric rubric={item.rubric} />
                </article>
              </li>
            ))}
          </ol>
          <h2>Steps to the grade</h2>
          <ol>
            {e.steps.map((s, i) => (
              <li key={`${s.step}-${s.attemptId ?? i}`}>
                <strong>{stepLabel[s.step]}</strong>: {s.detail} → {percentText(s.value)}
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </Page>
  );
}
