import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { formatDate } from "../../lib/format";
import { useApi } from "../../lib/use-api";

/** Public: whether a certificate code is genuine, and for whom and what (printed on the certificate). */
export default function VerifyCertificate({ code }: { code: string }) {
  const result = useApi(() => api.GET("/v1/certificates/verify/{code}", { params: { path: { code } } }), [code]);
  const r = result.data;
  return (
    <Page title="Verify a certificate">
      <p>
        Code <code>{code}</code>
      </p>
      {result.loading ? <Loading what="Checking the code" /> : null}
      <Problem problem={result.problem} />
      {r ? (
        r.valid ? (
          <div role="status">
            <p>
              <strong>Valid certificate.</strong> {r.learnerName} completed “{r.courseTitle}”{r.issuedAt ? ` (issued ${formatDate(r.issuedAt)})` : ""}.
            </p>
          </div>
        ) : (
          <p role="status">
            <strong>Not valid:</strong> no certificate has this code.
          </p>
        )
      ) : null}
    </Page>
  );
}
