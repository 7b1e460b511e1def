// Every long operation — snapshot, add, sync, get a copy, upload, download, pull, push — in one
// list, several at once: each with its progress, the distinct warnings it reported, and how it
// ended. Transfers also pause (stop, keep what arrived) and resume (start again; nothing is sent
// twice). Pure state changes here; components/Tasks.tsx runs the operations and shows the list.
import type { ApiError, ProgressDto, Task } from "../api";
import type { LocalRemedies } from "./errors";

export type TaskStatus = "running" | "paused" | "failed" | "done";

export interface TaskRow {
  key: number;
  title: string;
  /** Whether stopping keeps what arrived, so Pause and Resume make sense. */
  pausable: boolean;
  /** What `files` counts: "files" on disk, "objects" in a transfer. */
  unit: string;
  status: TaskStatus;
  cancelling: boolean;
  progress: ProgressDto | null;
  /** Distinct warnings in the order they came, at most MAX_WARNINGS; `moreWarnings` counts the rest. */
  warnings: string[];
  moreWarnings: number;
  /** Done: the result in words. Paused: what pausing kept. */
  message: string | null;
  error: ApiError | null;
}

export const MAX_WARNINGS = 200;
/** Finished rows kept; the oldest goes when another finishes. */
export const MAX_DONE = 5;

export type TaskAction =
  | { type: "start"; key: number; title: string; pausable: boolean; unit: string }
  | { type: "progress"; key: number; progress: ProgressDto }
  | { type: "cancelling"; key: number }
  | { type: "paused"; key: number }
  | { type: "resumed"; key: number }
  | { type: "failed"; key: number; error: ApiError }
  | { type: "done"; key: number; message: string }
  | { type: "dismiss"; key: number }
  | { type: "clear-done" };

export function tasks(list: TaskRow[], a: TaskAction): TaskRow[] {
  if (a.type === "clear-done") return list.filter((t) => t.status !== "done");
  const update = (f: (t: TaskRow) => TaskRow) => list.map((t) => (t.key === a.key ? f(t) : t));
  switch (a.type) {
    case "start":
      return [
        ...list,
        {
          key: a.key,
          title: a.title,
          pausable: a.pausable,
          unit: a.unit,
          status: "running",
          cancelling: false,
          progress: null,
          warnings: [],
          moreWarnings: 0,
          message: null,
          error: null,
        },
      ];
    case "progress":
      // Progress after a pause belongs to a run being stopped: ignore it.
      return update((t) => (t.status === "running" ? withWarning({ ...t, progress: a.progress }, a.progress.warning) : t));
    case "cancelling":
      return update((t) => (t.status === "running" ? { ...t, cancelling: true } : t));
    case "paused":
      return update((t) => ({ ...t, status: "paused", cancelling: false, message: "Paused; what arrived is kept" }));
    case "resumed":
      return update((t) => ({ ...t, status: "running", cancelling: false, message: null, error: null }));
    case "failed":
      return update((t) => ({ ...t, status: "failed", cancelling: false, error: a.error }));
    case "done": {
      const l = update((t) => ({ ...t, status: "done", cancelling: false, message: a.message, error: null }));
      const done = l.filter((t) => t.status === "done");
      const drop = new Set(done.slice(0, Math.max(0, done.length - MAX_DONE)).map((t) => t.key));
      return drop.size ? l.filter((t) => !drop.has(t.key)) : l;
    }
    case "dismiss":
      return list.filter((t) => t.key !== a.key);
  }
}

function withWarning(t: TaskRow, w: string | null): TaskRow {
  if (!w || t.warnings.includes(w)) return t;
  if (t.warnings.length >= MAX_WARNINGS) return { ...t, moreWarnings: t.moreWarnings + 1 };
  return { ...t, warnings: [...t.warnings, w] };
}

/** Fraction done, from bytes when known, else files; a finished task is full. */
export function fraction(t: Pick<TaskRow, "status" | "progress">): number {
  const p = t.progress;
  if (t.status === "done") return 1;
  if (!p) return 0;
  if (p.totalBytes > 0) return Math.min(1, p.bytes / p.totalBytes);
  if (p.totalFiles > 0) return Math.min(1, p.files / p.totalFiles);
  return 0;
}

/** A long operation to run in the task list. */
export interface TaskSpec<T> {
  title: string;
  /** Starts it (again, on resume or retry). */
  start: (onProgress: (p: ProgressDto) => void) => Task<T>;
  /** The result in words, shown on the finished row. */
  describe: (result: T) => string;
  /** Transfers: Pause stops it keeping what arrived, Resume starts it again. */
  pausable?: boolean;
  /** What the progress counts; "files" unless said. */
  unit?: string;
  onDone?: (result: T) => void;
  /** A place that can act on this failure itself (a dialog) returns true, and the row goes. */
  onFailed?: (error: ApiError) => boolean;
  /** Actions a failed row offers beyond Retry (e.g. overwrite: start again replacing the folder). */
  remedies?: Omit<LocalRemedies, "retry">;
  /** Said when it is cancelled. */
  cancelled?: string;
}

/** Starts a task in the list; it runs beside the others. */
export type StartTask = <T>(spec: TaskSpec<T>) => void;
