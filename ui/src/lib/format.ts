/** Human sizes in decimal units, like the CLI. */
export function bytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

export function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

export function when(ms: number): string {
  const d = new Date(ms);
  return d.toISOString().replace("T", " ").slice(0, 16);
}

export function rate(bytesPerSec: number): string {
  return `${bytes(Math.round(bytesPerSec))}/s`;
}

/** Seconds left at the current rate, or "" when unknown. */
export function eta(done: number, total: number, perSec: number): string {
  if (total <= 0 || perSec <= 0 || done >= total) return "";
  const s = Math.round((total - done) / perSec);
  return s < 60 ? `${s}s left` : `${Math.floor(s / 60)}m ${s % 60}s left`;
}

/** "3 added, 12 modified, 1 removed", or "no changes". */
export function changeSummary(t: { added: number; modified: number; removed: number }): string {
  const parts = [];
  if (t.added) parts.push(`${t.added.toLocaleString("en-US")} added`);
  if (t.modified) parts.push(`${t.modified.toLocaleString("en-US")} modified`);
  if (t.removed) parts.push(`${t.removed.toLocaleString("en-US")} removed`);
  return parts.length ? parts.join(", ") : "no changes";
}

/** Where a version is, in words for a badge. */
export function uploadLabel(state: string): string {
  return state === "remote" ? "remote-only" : state;
}
