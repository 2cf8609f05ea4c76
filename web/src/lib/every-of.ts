/**
 * A list holding every member of a union from the generated types: pages need the values at run time (check
 * boxes, selects), and a value the API adds or drops breaks the build here instead of leaving the list stale.
 * Use: `everyOf<Kind>()(["a", "b"])`.
 */
export function everyOf<T extends string>() {
  return <const L extends readonly T[]>(list: L & ([Exclude<T, L[number]>] extends [never] ? unknown : { missing: Exclude<T, L[number]> })): L => list;
}
