/** Which rows of a long list to render: only those in view plus a margin, so a million-entry
 *  file list costs as much as a screenful. */
export interface Window {
  first: number;
  last: number; // exclusive
  padTop: number;
  padBottom: number;
}

export function visibleRows(
  total: number,
  rowHeight: number,
  scrollTop: number,
  viewHeight: number,
  overscan = 10,
): Window {
  if (total <= 0) return { first: 0, last: 0, padTop: 0, padBottom: 0 };
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(total, Math.ceil((scrollTop + viewHeight) / rowHeight) + overscan);
  return { first, last, padTop: first * rowHeight, padBottom: (total - last) * rowHeight };
}

/** The page (offset) that holds row `i`, for fetching rows from the backend in pages. */
export function pageOf(i: number, pageSize: number): number {
  return Math.floor(i / pageSize) * pageSize;
}
