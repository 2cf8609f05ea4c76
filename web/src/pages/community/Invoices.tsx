import { useLocation } from "preact-iso";
import { api } from "../../api/client";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Pager } from "../../components/Pager";
import { Problem } from "../../components/Problem";
import { TableScroll } from "../../components/TableScroll";
import { formatDate, formatMoney } from "../../lib/format";
import { useApi } from "../../lib/use-api";

const statusText = { open: "Open", paid: "Paid", void: "Void" } as const;

/** My invoices, newest first, with what is still owed (the balance, by currency, of this page's invoices). */
export default function Invoices() {
  const { query } = useLocation();
  const cursor = query.cursor;
  const list = useApi(() => api.GET("/v1/me/invoices", { params: { query: { cursor, limit: 20 } } }), [cursor]);
  const owed = new Map<string, number>();
  for (const i of list.data?.items ?? []) if (i.status === "open") owed.set(i.currency, (owed.get(i.currency) ?? 0) + i.outstandingMinor);

  return (
    <Page title="Invoices">
      {list.loading && !list.data ? <Loading what="Loading invoices" /> : null}
      <Problem problem={list.problem} />
      {list.data ? (
        list.data.items.length === 0 ? (
          <p>You have no invoices.</p>
        ) : (
          <>
            <p>
              {owed.size === 0
                ? "Nothing is owed on these invoices."
                : `Still owed: ${[...owed].map(([currency, minor]) => formatMoney(minor, currency)).join(", ")}.`}
            </p>
            <TableScroll label="My invoices">
              <table>
                <caption>My invoices</caption>
                <thead>
                  <tr>
                    <th scope="col">Invoice</th>
                    <th scope="col">Course</th>
                    <th scope="col">Total</th>
                    <th scope="col">Owed</th>
                    <th scope="col">Status</th>
                    <th scope="col">Due</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.items.map((i) => (
                    <tr key={i.id}>
                      <th scope="row">
                        <a href={`/invoices/${i.id}`}>{i.number}</a>
                      </th>
                      <td>{i.courseTitle}</td>
                      <td>{formatMoney(i.totalMinor, i.currency)}</td>
                      <td>{formatMoney(i.outstandingMinor, i.currency)}</td>
                      <td>{statusText[i.status]}</td>
                      <td>{formatDate(i.dueAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          </>
        )
      ) : null}
      <Pager path={"/invoices"} query={query} nextCursor={list.data?.nextCursor} nextLabel="Older invoices" />
    </Page>
  );
}
