import type { ComponentChildren } from "preact";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDate, formatDateTime, formatPercent, formatPercentValue } from "../../lib/format";
import { useApi } from "../../lib/use-api";
import { useCourseTitle } from "../../lib/use-course-title";
import { TableScroll } from "../../components/TableScroll";
import { ChartImage, type ChartName } from "./chart-image";


/** A chart with its figures: the image's alt says what it shows; the table under it holds every number. */
function ChartFigure({ courseId, chart, title, alt, children }: { courseId: string; chart: ChartName; title: string; alt: string; children: ComponentChildren }) {
  return (
    <section aria-labelledby={`chart-${chart}`}>
      <h2 id={`chart-${chart}`}>{title}</h2>
      <figure>
        <ChartImage courseId={courseId} chart={chart} alt={alt} />
      </figure>
      <details>
        <summary>The numbers of “{title}”</summary>
        <TableScroll label={`The numbers of ${title}`}>{children}</TableScroll>
      </details>
    </section>
  );
}

/** The course's numbers for the last 30 days and the four SVG charts, each with its figures as a table. */
export default function Analytics({ courseId }: { courseId: string }) {
  const course = useCourseTitle(courseId);
  const stats = useApi(() => api.GET("/v1/courses/{courseId}/analytics", { params: { path: { courseId } } }), [courseId]);
  const a = stats.data;
  return (
    <Page title={course.title ? `Analytics: ${course.title}` : "Analytics"}>
      <p>
        <a href={`/courses/${courseId}/manage`}>Back to the course</a>
      </p>
      {stats.loading && !a ? <Loading what="Loading the numbers" /> : null}
      <Problem problem={stats.problem} />
      {a ? (
        <>
          <p class="muted">
            {formatDate(a.from)} to {formatDate(a.to)}, as of {formatDateTime(a.generatedAt)}
          </p>
          <dl class="summary">
            <dt>Enrolled now</dt>
            <dd>{a.summary.enrolled}</dd>
            <dt>Ever enrolled</dt>
            <dd>{a.summary.everEnrolled}</dd>
            <dt>Dropped</dt>
            <dd>{a.summary.dropped}</dd>
            <dt>Completed</dt>
            <dd>{a.summary.completed}</dd>
            <dt>Completion rate</dt>
            <dd>{formatPercent(a.summary.completionRate)}</dd>
            <dt>Average progress</dt>
            <dd>{formatPercentValue(a.summary.averageProgress)}</dd>
            <dt>Grades: mean, median, passing</dt>
            <dd>
              {formatPercentValue(a.grades.overall.mean)}, {formatPercentValue(a.grades.overall.median)}, {formatPercent(a.grades.overall.passRate)} ({a.grades.overall.graded} graded, pass mark {a.grades.passPercent}%)
            </dd>
          </dl>

          <ChartFigure courseId={courseId} chart="active-learners" title="Active learners per day" alt={`Line chart of active learners per day, ${a.activeLearners.length} days; the most on one day: ${Math.max(0, ...a.activeLearners.map((d) => d.count))}.`}>
            <table>
              <caption class="visually-hidden">Active learners per day</caption>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Active learners</th>
                </tr>
              </thead>
              <tbody>
                {a.activeLearners.map((d) => (
                  <tr key={d.date}>
                    <th scope="row">{formatDate(d.date)}</th>
                    <td>{d.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ChartFigure>

          <ChartFigure courseId={courseId} chart="enrollments" title="Enrollments" alt={`Chart of enrollments per day: ${a.summary.enrolled} enrolled now, ${a.summary.dropped} dropped, ${a.summary.completed} completed.`}>
            <table>
              <caption class="visually-hidden">Enrollments per day</caption>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Enrolled</th>
                  <th scope="col">Dropped</th>
                  <th scope="col">Completed</th>
                  <th scope="col">Total</th>
                </tr>
              </thead>
              <tbody>
                {a.enrollments.map((d) => (
                  <tr key={d.date}>
                    <th scope="row">{formatDate(d.date)}</th>
                    <td>{d.enrolled}</td>
                    <td>{d.dropped}</td>
                    <td>{d.completed}</td>
                    <td>{d.total}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ChartFigure>

          <ChartFigure courseId={courseId} chart="drop-off" title="Drop-off by lesson" alt={`Bar chart of the share of learners who completed each of ${a.dropOff.length} lessons, in course order.`}>
            <table>
              <caption class="visually-hidden">Drop-off by lesson</caption>
              <thead>
                <tr>
                  <th scope="col">Lesson</th>
                  <th scope="col">Completed</th>
                  <th scope="col">Completion rate</th>
                  <th scope="col">Stalled here</th>
                </tr>
              </thead>
              <tbody>
                {a.dropOff.map((l) => (
                  <tr key={l.lessonId}>
                    <th scope="row">
                      {l.moduleTitle}: {l.title}
                    </th>
                    <td>{l.completed}</td>
                    <td>{formatPercent(l.completionRate)}</td>
                    <td>{l.stalledHere}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ChartFigure>

          <ChartFigure courseId={courseId} chart="grades" title="Grade distribution" alt={`Histogram of ${a.grades.overall.graded} grades; mean ${formatPercentValue(a.grades.overall.mean)}, median ${formatPercentValue(a.grades.overall.median)}.`}>
            <table>
              <caption class="visually-hidden">Grade distribution</caption>
              <thead>
                <tr>
                  <th scope="col">Grade</th>
                  <th scope="col">Learners</th>
                </tr>
              </thead>
              <tbody>
                {a.grades.overall.buckets.map((b) => (
                  <tr key={b.from}>
                    <th scope="row">
                      {b.from}–{b.to}%
                    </th>
                    <td>{b.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ChartFigure>
        </>
      ) : null}
    </Page>
  );
}
