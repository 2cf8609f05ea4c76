import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDate } from "../../lib/format";
import { useApi } from "../../lib/use-api";

/** My certificates, each with its PDF (a short-lived link) and the public verification page of its code. */
export default function Certificates() {
  const certificates = useApi(() => api.GET("/v1/me/certificates", { params: { query: { limit: 100 } } }), []);
  return (
    <Page title="My certificates">
      {certificates.loading ? <Loading what="Loading your certificates" /> : null}
      <Problem problem={certificates.problem} />
      {certificates.data?.items.length === 0 ? <p>No certificate yet: you get one when you complete a course.</p> : null}
      <ul class="card-list" aria-label="Certificates">
        {certificates.data?.items.map((c) => (
          <li key={c.id}>
            <article>
              <h2>{c.courseTitle}</h2>
              <p>
                Issued {formatDate(c.issuedAt)}. Code <code>{c.code}</code> (<a href={`/certificates/verify/${encodeURIComponent(c.code)}`}>verification page</a>)
              </p>
              <p>
                <a href={c.downloadUrl} download>
                  Download the certificate for {c.courseTitle} (PDF)
                </a>
              </p>
            </article>
          </li>
        ))}
      </ul>
    </Page>
  );
}
