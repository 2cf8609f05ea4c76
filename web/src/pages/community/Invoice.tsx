import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { TableScroll } from "../../components/TableScroll";
import { formatDate, formatDateTime, formatMoney } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";

const statusText = { open: "Open", paid: "Paid", void: "Void" } as const;

/** One invoice: its lines, instalments and payments; pay online at the provider; its PDF. */
export default function Invoice({ invoiceId }: { invoiceId: string }) {
  const invoice = useApi(() => api.GET("/v1/invoices/{invoiceId}", { params: { path: { invoiceId } } }), [invoiceId]);
  const pay = useAction();
  const pdf = useAction();
  const i = invoice.data;
  const money = (minor: number) => formatMoney(minor, i?.currency ?? "USD");

  // The provider's checkout page is another site: the browser goes there and comes back to this page.
  const checkout = async () => {
    const page = await pay.run(() => api.POST("/v1/invoices/{invoiceId}/checkout", { params: { path: { invoiceId } }, body: {} }));
    if (page) location.assign(page.url);
  };
  // The PDF link is short-lived, so it is asked for when wanted rather than when the page opens.
  const openPdf = async () => {
    const link = await pdf.run(() => api.GET("/v1/invoices/{invoiceId}/pdf", { params: { path: { invoiceId } } }));
    if (link) location.assign(link.url);
  };

  return (
    <Page title={i ? `Invoice ${i.number}` : "Invoice"}>
      <p>
        <a href="/invoices">All my invoices</a>
      </p>
      {invoice.loading && !i ? <Loading what="Loading the invoice" /> : null}
      <Problem problem={invoice.problem} />
      {i ? (
        <>
          <dl>
            <dt>Course</dt>
            <dd>{i.courseTitle}</dd>
            <dt>Status</dt>
            <dd>{statusText[i.status]}</dd>
            <dt>Issued</dt>
            <dd>{formatDate(i.issuedAt)}</dd>
            <dt>Due</dt>
            <dd>{formatDate(i.dueAt)}</dd>
            <dt>Total</dt>
            <dd>{money(i.totalMinor)}</dd>
            <dt>Still owed</dt>
            <dd>{money(i.outstandingMinor)}</dd>
          </dl>
          <div role="group" aria-label="Invoice actions">
            {i.status === "open" && i.outstandingMinor > 0 ? (
              <button type="button" onClick={() => void checkout()} disabled={pay.pending} aria-busy={pay.pending || undefined}>
                Pay online
              </button>
            ) : null}
            <button type="button" class="secondary" onClick={() => void openPdf()} disabled={pdf.pending}>
              Download the PDF
            </button>
          </div>
          <Problem problem={pay.problem ?? pdf.problem} />

          <TableScroll label="Lines">
            <table>
              <caption>Lines</caption>
              <thead>
                <tr>
                  <th scope="col">Description</th>
                  <th scope="col">Amount</th>
                </tr>
              </thead>
              <tbody>
                {i.lines.map((line, n) => (
                  <tr key={n}>
                    <th scope="row">{line.description}</th>
                    <td>{money(line.amountMinor)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                {i.discountMinor ? (
                  <tr>
                    <th scope="row">Discount</th>
                    <td>{money(-i.discountMinor)}</td>
                  </tr>
                ) : null}
                <tr>
                  <th scope="row">Total</th>
                  <td>{money(i.totalMinor)}</td>
                </tr>
              </tfoot>
            </table>
          </TableScroll>

          {i.instalments.length > 0 ? (
            <TableScroll label="Instalments">
              <table>
                <caption>Instalments</caption>
                <thead>
                  <tr>
                    <th scope="col">Instalment</th>
                    <th scope="col">Due</th>
                    <th scope="col">Amount</th>
                    <th scope="col">Late fee</th>
                    <th scope="col">Paid</th>
                    <th scope="col">Owed</th>
                  </tr>
                </thead>
                <tbody>
                  {i.instalments.map((s) => (
                    <tr key={s.seq}>
                      <th scope="row">{s.seq}</th>
                      <td>{formatDate(s.dueAt)}</td>
                      <td>{money(s.amountMinor)}</td>
                      <td>{money(s.lateFeeMinor)}</td>
                      <td>{money(s.paidMinor)}</td>
                      <td>{money(s.outstandingMinor)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          ) : null}

          <h2>Payments</h2>
          {i.payments.length === 0 ? (
            <p>No payments yet.</p>
          ) : (
            <ul aria-label="Payments">
              {i.payments.map((p) => (
                <li key={p.id}>
                  {formatMoney(p.amountMinor, p.currency)} by {p.method} on {formatDateTime(p.receivedAt)}
                  {p.reference ? ` (reference ${p.reference})` : ""}
                </li>
              ))}
            </ul>
          )}
          {i.refunds.length > 0 ? (
            <>
              <h2>Refunds</h2>
              <ul aria-label="Refunds">
                {i.refunds.map((r) => (
                  <li key={r.id}>
                    {formatMoney(r.amountMinor, r.currency)} ({r.status}): {r.reason}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </>
      ) : null}
    </Page>
  );
}
