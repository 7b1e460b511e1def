// The small stack of notices above the page: the app's own news ("info") and the backend's
// warnings from operations without a progress channel ("warning", from `strata://notice`).

export type Tone = "info" | "warning";

export interface Notice {
  key: number;
  message: string;
  tone: Tone;
}

/** At most this many at once: the oldest goes first. */
export const MAX_NOTICES = 5;

/** Adds a notice at the end; the same message again moves there instead of showing twice. */
export function addNotice(list: Notice[], n: Notice): Notice[] {
  const rest = list.filter((x) => x.message !== n.message);
  return [...rest, n].slice(-MAX_NOTICES);
}
