import { useCallback, useReducer, useRef } from "react";
import { asApiError, type ApiError, type Task } from "../api";
import { isCancelled, type LocalRemedies } from "../lib/errors";
import { bytes, eta, rate } from "../lib/format";
import { fraction, tasks, type StartTask, type TaskRow, type TaskSpec } from "../lib/tasks";
import { ErrorView } from "./ErrorView";

interface Handle {
  spec: TaskSpec<unknown>;
  /** The current run; a stopped run's late answers are ignored. */
  run: Task<unknown> | null;
  paused: boolean;
}

export interface TaskList {
  list: TaskRow[];
  start: StartTask;
  pause: (key: number) => void;
  resume: (key: number) => void;
  cancel: (key: number) => void;
  dismiss: (key: number) => void;
  clearDone: () => void;
  /** A failed row's actions beyond Retry; taking one replaces the row. */
  remediesFor: (key: number) => LocalRemedies | undefined;
}

/** Runs the long operations side by side. `onSettled` follows every end (refresh what they
 *  changed); `onNotice` says what a cancel did. */
/** `onFailure` hears every failure (the app probes the default remote after an `unavailable`). */
export function useTasks(onSettled: () => void, onNotice: (m: string) => void, onFailure?: (e: ApiError) => void): TaskList {
  const [list, dispatch] = useReducer(tasks, []);
  const handles = useRef(new Map<number, Handle>());
  const nextKey = useRef(1);
  // Read at call time, so `start` stays the same function across renders.
  const callbacks = useRef({ onSettled, onNotice, onFailure });
  callbacks.current = { onSettled, onNotice, onFailure };

  const launch = useCallback((key: number) => {
    const h = handles.current.get(key);
    if (!h) return;
    h.paused = false;
    let started: Task<unknown> | null = null;
    const run = h.spec.start((p) => {
      if (started === null || h.run === started) dispatch({ type: "progress", key, progress: p });
    });
    started = h.run = run;
    run.done.then(
      (r) => {
        if (h.run !== run) return;
        h.run = null;
        dispatch({ type: "done", key, message: h.spec.describe(r) });
        h.spec.onDone?.(r);
        callbacks.current.onSettled();
      },
      (e) => {
        // Pausing cancels the run; its "cancelled" answer is expected.
        if (h.run !== run || h.paused) return;
        h.run = null;
        const err = asApiError(e);
        if (!isCancelled(err)) callbacks.current.onFailure?.(err);
        if (isCancelled(err)) {
          handles.current.delete(key);
          dispatch({ type: "dismiss", key });
          callbacks.current.onNotice(
            h.spec.cancelled ?? (h.spec.pausable ? `${h.spec.title}: cancelled; what arrived is kept.` : "Cancelled; nothing was changed."),
          );
        } else if (h.spec.onFailed?.(err)) {
          handles.current.delete(key);
          dispatch({ type: "dismiss", key });
        } else {
          dispatch({ type: "failed", key, error: err });
        }
        callbacks.current.onSettled();
      },
    );
  }, []);

  const start: StartTask = useCallback(
    (spec) => {
      const key = nextKey.current++;
      handles.current.set(key, { spec: spec as TaskSpec<unknown>, run: null, paused: false });
      dispatch({ type: "start", key, title: spec.title, pausable: spec.pausable ?? false, unit: spec.unit ?? "files" });
      launch(key);
    },
    [launch],
  );

  const pause = useCallback((key: number) => {
    const h = handles.current.get(key);
    if (!h?.run || !h.spec.pausable) return;
    h.paused = true;
    h.run.cancel().catch(() => {});
    dispatch({ type: "paused", key });
  }, []);

  const resume = useCallback(
    (key: number) => {
      if (!handles.current.has(key)) return;
      dispatch({ type: "resumed", key });
      launch(key);
    },
    [launch],
  );

  const cancel = useCallback((key: number) => {
    const run = handles.current.get(key)?.run;
    if (!run) return;
    dispatch({ type: "cancelling", key });
    run.cancel().catch(() => {});
  }, []);

  const dismiss = useCallback((key: number) => {
    handles.current.delete(key);
    dispatch({ type: "dismiss", key });
  }, []);

  const clearDone = useCallback(() => {
    for (const t of list) if (t.status === "done") handles.current.delete(t.key);
    dispatch({ type: "clear-done" });
  }, [list]);

  const remediesFor = useCallback(
    (key: number): LocalRemedies | undefined => {
      const r = handles.current.get(key)?.spec.remedies;
      if (!r) return undefined;
      const replacing = (f?: () => void) =>
        f &&
        (() => {
          dismiss(key);
          f();
        });
      return { force: replacing(r.force), overwrite: replacing(r.overwrite) };
    },
    [dismiss],
  );

  return { list, start, pause, resume, cancel, dismiss, clearDone, remediesFor };
}

/** Every running and finished task: progress, warnings, result or failure, and its controls. */
export function TasksPanel({ tasks: t }: { tasks: TaskList }) {
  if (t.list.length === 0) return null;
  const running = t.list.filter((x) => x.status === "running").length;
  const done = t.list.filter((x) => x.status === "done").length;
  return (
    <div className="tasks" role="status" aria-live="polite" data-test="transfers">
      <div className="tasks-head">
        <span>Tasks{running > 0 ? ` · ${running} running` : ""}</span>
        {done > 0 && (
          <button className="ghost small" onClick={t.clearDone} data-test="clear-tasks">
            Clear finished
          </button>
        )}
      </div>
      {t.list.map((row) => (
        <TaskItem key={row.key} row={row} tasks={t} />
      ))}
    </div>
  );
}

function TaskItem({ row, tasks: t }: { row: TaskRow; tasks: TaskList }) {
  const p = row.progress;
  const running = row.status === "running";
  const phase = running ? (row.cancelling ? "cancelling" : p ? p.phase : "starting") : row.status;
  return (
    <div className={`task-row ${row.status}`} data-test={`transfer-${row.status}`}>
      <div className="task-head">
        <strong title={row.title}>{row.title}</strong>
        <span className="task-phase">{phase}</span>
        {running && row.pausable && (
          <button className="small" onClick={() => t.pause(row.key)} disabled={row.cancelling} data-test="pause-transfer">
            Pause
          </button>
        )}
        {running && (
          <button className="danger small" onClick={() => t.cancel(row.key)} disabled={row.cancelling} data-test="cancel-task">
            {row.cancelling ? "Cancelling…" : "Cancel"}
          </button>
        )}
        {(row.status === "paused" || row.status === "failed") && (
          <button className="small" onClick={() => t.resume(row.key)} data-test="resume-transfer">
            {row.status === "paused" ? "Resume" : "Retry"}
          </button>
        )}
        {!running && (
          <button className="ghost small" onClick={() => t.dismiss(row.key)} aria-label="Dismiss" data-test="dismiss-task">
            ×
          </button>
        )}
      </div>
      {/* A finished row keeps only its result: several stay small. */}
      {row.status !== "done" && (
        <div className="bar">
          <div className="bar-fill" style={{ width: `${(fraction(row) * 100).toFixed(1)}%` }} />
        </div>
      )}
      {p && row.status !== "done" && (
        <div className="task-figures">
          <span>
            {p.files.toLocaleString("en-US")}
            {p.totalFiles ? ` / ${p.totalFiles.toLocaleString("en-US")}` : ""} {row.unit}
          </span>
          <span>
            {bytes(p.bytes)}
            {p.totalBytes ? ` / ${bytes(p.totalBytes)}` : ""}
          </span>
          {running && <span>{rate(p.rate)}</span>}
          {running && <span>{eta(p.bytes, p.totalBytes, p.rate)}</span>}
        </div>
      )}
      {row.warnings.length > 0 && (
        <ul className="task-warnings" data-test="task-warnings">
          {row.warnings.map((w) => (
            <li key={w} className="task-warning">
              {w}
            </li>
          ))}
          {row.moreWarnings > 0 && <li className="task-warning">…and {row.moreWarnings.toLocaleString("en-US")} more</li>}
        </ul>
      )}
      {row.message && <div className="muted task-message">{row.message}</div>}
      {row.error && <ErrorView error={row.error} remedies={t.remediesFor(row.key)} compact test="task-error" />}
    </div>
  );
}
