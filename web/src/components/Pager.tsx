/** Links to the first and next page of a cursor-paged list, keeping the page's other query parameters. */
export function Pager({ path, query, nextCursor }: { path: string; query: Record<string, string | undefined>; nextCursor: string | null | undefined }) {
  const { cursor, ...rest } = query;
  const kept = Object.fromEntries(Object.entries(rest).filter((e): e is [string, string] => Boolean(e[1])));
  const href = (extra: Record<string, string>) => {
    const search = new URLSearchParams({ ...kept, ...extra }).toString();
    return search ? `${path}?${search}` : path;
  };
  if (!cursor && !nextCursor) return null;
  return (
    <nav aria-label="Pages">
      <ul>
        {cursor ? (
          <li>
            <a href={href({})}>First page</a>
          </li>
        ) : null}
        {nextCursor ? (
          <li>
            <a href={href({ cursor: nextCursor })}>Next page</a>
          </li>
        ) : null}
      </ul>
    </nav>
  );
}
