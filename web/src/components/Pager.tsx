/**
 * Links to the first and next page of a cursor-paged list, keeping the page's other query parameters. The cursor
 * lives in the URL (not in state), so Back and a reload return to the same page. `param` names the cursor's query
 * parameter when a page has more than one paged list; `label` names the navigation region then too.
 */
export function Pager({
  path,
  query,
  nextCursor,
  param = "cursor",
  label = "Pages",
  nextLabel = "Next page",
}: {
  path: string;
  query: Record<string, string | undefined>;
  nextCursor: string | null | undefined;
  param?: string;
  label?: string;
  /** The next link's words when the list has an order worth naming ("Older invoices"). */
  nextLabel?: string;
}) {
  const { [param]: cursor, ...rest } = query;
  const kept = Object.fromEntries(Object.entries(rest).filter((e): e is [string, string] => Boolean(e[1])));
  const href = (extra: Record<string, string>) => {
    const search = new URLSearchParams({ ...kept, ...extra }).toString();
    return search ? `${path}?${search}` : path;
  };
  if (!cursor && !nextCursor) return null;
  return (
    <nav aria-label={label}>
      <ul>
        {cursor ? (
          <li>
            <a href={href({})}>First page</a>
          </li>
        ) : null}
        {nextCursor ? (
          <li>
            <a href={href({ [param]: nextCursor })}>{nextLabel}</a>
          </li>
        ) : null}
      </ul>
    </nav>
  );
}
