// The transfers list: uploads, downloads and pulls that run side by side, each with its own
// progress, and pause (stop, keep what arrived), resume (start again; nothing is sent twice) and
// cancel. Pure state changes here; the panel and App wire them to tasks.
import type { ProgressDto } from "../api";

export type TransferStatus = "running" | "paused" | "failed" | "done";

export interface Transfer {
  key: number;
  title: string;
  status: TransferStatus;
  progress: ProgressDto | null;
  message: string | null;
}

export type TransferAction =
  | { type: "start"; key: number; title: string }
  | { type: "progress"; key: number; progress: ProgressDto }
  | { type: "paused"; key: number }
  | { type: "resumed"; key: number }
  | { type: "failed"; key: number; message: string }
  | { type: "done"; key: number; message: string }
  | { type: "dismiss"; key: number };

export function transfers(list: Transfer[], a: TransferAction): Transfer[] {
  const update = (f: (t: Transfer) => Transfer) => list.map((t) => (t.key === a.key ? f(t) : t));
  switch (a.type) {
    case "start":
      return [...list, { key: a.key, title: a.title, status: "running", progress: null, message: null }];
    case "progress":
      // Progress after a pause belongs to a task being stopped: ignore it.
      return update((t) => (t.status === "running" ? { ...t, progress: a.progress } : t));
    case "paused":
      return update((t) => ({ ...t, status: "paused", message: "Paused; what arrived is kept" }));
    case "resumed":
      return update((t) => ({ ...t, status: "running", message: null }));
    case "failed":
      return update((t) => ({ ...t, status: "failed", message: a.message }));
    case "done":
      return update((t) => ({ ...t, status: "done", message: a.message }));
    case "dismiss":
      return list.filter((t) => t.key !== a.key);
  }
}

/** Fraction done, from bytes when known, else files. */
export function fraction(p: ProgressDto | null): number {
  if (!p) return 0;
  if (p.totalBytes > 0) return Math.min(1, p.bytes / p.totalBytes);
  if (p.totalFiles > 0) return Math.min(1, p.files / p.totalFiles);
  return 0;
}
