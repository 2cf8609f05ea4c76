import { api } from "../../../api/client";
import { Loading } from "../../../components/Loading";
import { Problem } from "../../../components/Problem";
import { formatDateTime } from "../../../lib/format";
import { useAction, useApi } from "../../../lib/use-api";

/** A copy of everything the account holds (prepared in the background; a download link when ready). */
export function DataExport() {
  const exports = useApi(() => api.GET("/v1/me/data-export", { params: { query: { limit: 10 } } }), []);
  const action = useAction();
  const request = async () => {
    if (await action.run(() => api.POST("/v1/me/data-export"))) exports.reload();
  };
  return (
    <section aria-labelledby="export-heading">
      <h2 id="export-heading">A copy of your data</h2>
      <button type="button" class="secondary" onClick={request} disabled={action.pending} aria-busy={action.pending}>
        Request a copy
      </button>
      <Problem problem={action.problem ?? exports.problem} />
      {exports.loading && !exports.data ? <Loading /> : null}
      <ul aria-label="Your data copies" aria-live="polite">
        {exports.data?.items.map((x) => (
          <li key={x.id}>
            Requested {formatDateTime(x.requestedAt)}: {x.status}
            {x.status === "running" || x.status === "pending" ? ` (${x.progress.percent ?? 0}%)` : ""}
            {x.downloadUrl ? (
              <>
                {" "}
                — <a href={x.downloadUrl}>Download</a>
                {x.expiresAt ? ` (until ${formatDateTime(x.expiresAt)})` : ""}
              </>
            ) : null}
          </li>
        ))}
      </ul>
      {exports.data?.items.some((x) => x.status === "pending" || x.status === "running") ? (
        <button type="button" class="secondary outline" onClick={exports.reload}>
          Check again
        </button>
      ) : null}
    </section>
  );
}
