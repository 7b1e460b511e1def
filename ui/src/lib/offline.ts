// The offline laptop: what a version holds here, whether the default remote answers, and what
// "Upload & finalize waiting" would send. Pure functions; the components call the backend.
import type { LocalContentDto } from "../bindings/LocalContentDto";
import type { ReachDto } from "../bindings/ReachDto";
import type { WaitingDto } from "../bindings/WaitingDto";
import { bytes, count } from "./format";

/** How often the default remote is probed while the app is open (also at start, after going
 *  online, and after an `unavailable` error). */
export const PROBE_EVERY_MS = 60_000;

/** The version's local content in words, for its page. */
export function localContentLabel(lc: LocalContentDto): string {
  if (lc.files === 0) return "Nothing stored (empty, or links only)";
  const remote = lc.remote ? `'${lc.remote}'` : "the remote";
  switch (lc.local) {
    case "complete":
      return lc.remote ? `All here (${bytes(lc.bytes)}); also on ${remote}` : `All here (${bytes(lc.bytes)}); only on this machine`;
    case "none":
      return `On remote only (${remote}) — fetched on Get`;
    default:
      return `Partly here (${lc.localFiles} of ${count(lc.files, "file")}, ${bytes(lc.localBytes)} of ${bytes(lc.bytes)}) — the rest fetched from ${remote} on Get`;
  }
}

/** Whether "Free local space" makes sense: the version is on a remote and something is here. */
export function canFree(lc: LocalContentDto | null): boolean {
  return !!lc && !!lc.remote && lc.localFiles > 0;
}

/** The confirmation of "Free local space". Shared content may stay, so this is "up to". */
export function freeQuestion(label: string, lc: LocalContentDto): string {
  return (
    `Drop the local content of ${label} (up to ${bytes(lc.localBytes)}) after checking that '${lc.remote}' holds all of it? ` +
    `It stays listed; Get fetches it back. Content another version still needs here is kept.`
  );
}

/** The sidebar badge: null when nothing to say (no remote, offline, or it answers). */
export function unreachableBadge(reach: ReachDto | null, offline: boolean): { text: string; title: string } | null {
  if (offline || !reach || !reach.remote || reach.reachable) return null;
  return {
    text: "Unreachable",
    title: `default remote '${reach.remote}' unreachable — changes wait${reach.message ? ` (${reach.message})` : ""}`,
  };
}

/** What the sidebar's "Upload & finalize waiting (N)" counts: versions and catalog changes
 *  waiting (drafts are offered in the dialog, not counted: they are not waiting yet). Null (no
 *  action shown) without a remote and nothing waiting. */
export function waitingCount(w: WaitingDto | null): number | null {
  if (!w) return null;
  const n = w.versions.length + w.events;
  return w.remote || n > 0 ? n : null;
}

/** The dialog's button, in words, for what is ticked. */
export function waitingAction(w: WaitingDto, ticked: ReadonlySet<string>): string {
  const drafts = w.drafts.filter((d) => ticked.has(d.id)).length;
  const parts: string[] = [];
  if (drafts) parts.push(`finalize ${count(drafts, "draft")}`);
  const up = w.versions.length + drafts;
  if (up) parts.push(`upload ${count(up, "version")}`);
  if (w.events) parts.push(`send ${count(w.events, "catalog change")}`);
  if (!parts.length) return "Nothing to send";
  const s = parts.join(", ");
  return s[0].toUpperCase() + s.slice(1);
}
