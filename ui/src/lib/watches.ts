// Watched folders in words: what a watch is doing and what to do about it, the quiet window as
// people say it, and the throttle that keeps a busy folder from redrawing the page constantly.
// Pure, so it is tested without a window.
import type { ErrorKind, WatchDto, WatchPhase } from "../api";
import type { PendingDto } from "../bindings/PendingDto";
import { changeSummary } from "./format";

export type WatchTone = "ok" | "busy" | "paused" | "error" | "elsewhere";

export interface WatchStatus {
  /** A few words for the badge: "Idle", "Changes pending: 3 added", "Paused"... */
  label: string;
  tone: WatchTone;
  /** One sentence on what happens next, or what to do. */
  detail: string | null;
}

/** "1 s", "90 s" is "1 min 30 s", "2 h". */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (ms < 1000) return `${(ms / 1000).toFixed(1)} s`;
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return [h ? `${h} h` : "", m ? `${m} min` : "", rest ? `${rest} s` : ""].filter(Boolean).join(" ");
}

/** What a state is called while it runs here or elsewhere. Pending changes are counted as
 *  `strata status` counts them when the folder could be read, else only said to exist. */
function phaseWords(state: WatchPhase, changes: PendingDto | null, reason: string | null): string {
  switch (state) {
    case "pending":
      return changes && changes.added + changes.modified + changes.removed > 0
        ? `Changes pending: ${changeSummary(changes)}`
        : "Changes pending";
    case "versioning":
      return "Versioning…";
    case "uploading":
      return "Uploading…";
    case "waiting":
      return reason ? `Waiting: ${reason}` : "Waiting for files still being written";
    case "polling":
      return "Idle (polling)";
    case "missing":
      return "Folder missing";
    case "error":
      return "Error";
    default:
      return "Idle";
  }
}

/** What to do about a watch's failure, by its class; the watch itself tries again. */
export function watchRemedy(kind: ErrorKind | null): string {
  switch (kind) {
    case "unauthorized":
      return "Log in to the remote again (Remotes & sharing); the watch tries again on its own.";
    case "unavailable":
      return "It tries again on its own; check the connection or free some disk space.";
    case "conflict":
      return "Another task is writing this dataset; the watch tries again when it is done.";
    case "invalid":
    case "not_found":
      return "Remove the watch and add it again with a valid folder and dataset.";
    case "corrupt":
      return "Verify the dataset (strata verify), then Version now.";
    default:
      return "It tries again on its own; if it keeps failing, try Version now to see why, or remove the watch.";
  }
}

export function watchStatus(w: WatchDto): WatchStatus {
  const quiet = duration(w.quietMs);
  if (w.paused) {
    return w.running
      ? { label: "Pausing…", tone: "paused", detail: "Stops after what it is doing now." }
      : { label: "Paused", tone: "paused", detail: "No versions until you resume it; Version now still works." };
  }
  if (w.elsewhere !== null) {
    return {
      label: "Running elsewhere",
      tone: "elsewhere",
      detail: `Run by ${w.elsewhere} — ${phaseWords(w.state, w.changes, w.reason).toLowerCase()}.`,
    };
  }
  if (w.state === "missing") {
    return {
      label: "Folder missing",
      tone: "error",
      detail: "Reconnect its drive or restore the folder; it is watched again as soon as it returns.",
    };
  }
  if (w.state === "error") return { label: "Error", tone: "error", detail: watchRemedy(w.kind) };
  if (!w.running) return { label: "Starting…", tone: "busy", detail: "It starts within a few seconds." };
  switch (w.state) {
    case "pending":
      return {
        label: phaseWords(w.state, w.changes, null),
        tone: "busy",
        detail: `A version follows once writing has stopped for ${quiet}.`,
      };
    case "versioning":
    case "uploading":
      return { label: phaseWords(w.state, null, null), tone: "busy", detail: null };
    case "waiting":
      return {
        label: "Waiting",
        tone: "busy",
        detail: `${w.reason ?? "Some files are still being written"}; what has settled is versioned, the rest follows.`,
      };
    case "polling":
      return { label: "Idle (polling)", tone: "ok", detail: w.reason };
    default:
      return { label: "Idle", tone: "ok", detail: `Watching; a version follows ${quiet} after writing stops.` };
  }
}

/** Whether the watch is between two states nobody announces (starting, stopping): the page
 *  looks again shortly. */
export function settling(w: WatchDto): boolean {
  return w.paused ? w.running : !w.running && w.state !== "error" && w.state !== "missing";
}

/** Seconds as typed in the form, to milliseconds; null when it is not a number of seconds. */
export function quietMs(text: string): number | null {
  const t = text.trim().replace(",", ".");
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  return Math.round(Number(t) * 1000);
}

/** `f` at most once every `ms`: the first call runs at once, later ones within the window run
 *  once at its end. `cancel` drops a pending run. */
export function throttle(f: () => void, ms: number, clock: { now: () => number } = Date): { call: () => void; cancel: () => void } {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = () => {
    timer = null;
    last = clock.now();
    f();
  };
  return {
    call: () => {
      if (timer !== null) return;
      const wait = last + ms - clock.now();
      if (wait <= 0) run();
      else timer = setTimeout(run, wait);
    },
    cancel: () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
