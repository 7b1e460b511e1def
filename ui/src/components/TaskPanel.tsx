import type { ProgressDto } from "../api";
import { bytes, eta, rate } from "../lib/format";

export interface RunningTask {
  title: string;
  progress: ProgressDto | null;
  cancel: () => void;
  cancelling: boolean;
}

export function TaskPanel({ task }: { task: RunningTask }) {
  const p = task.progress;
  const frac = p && p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : p && p.totalFiles > 0 ? p.files / p.totalFiles : 0;
  return (
    <div className="task-panel" role="status" aria-live="polite">
      <div className="task-head">
        <strong>{task.title}</strong>
        <span className="task-phase">{p ? p.phase : "starting"}</span>
        <button className="danger small" onClick={task.cancel} disabled={task.cancelling} data-test="cancel-task">
          {task.cancelling ? "Cancelling…" : "Cancel"}
        </button>
      </div>
      <div className="bar">
        <div className="bar-fill" style={{ width: `${(frac * 100).toFixed(1)}%` }} />
      </div>
      {p && (
        <div className="task-figures">
          <span>
            {p.files.toLocaleString("en-US")}
            {p.totalFiles ? ` / ${p.totalFiles.toLocaleString("en-US")}` : ""} files
          </span>
          <span>
            {bytes(p.bytes)}
            {p.totalBytes ? ` / ${bytes(p.totalBytes)}` : ""}
          </span>
          <span>{rate(p.rate)}</span>
          <span>{eta(p.bytes, p.totalBytes, p.rate)}</span>
        </div>
      )}
      {p?.warning && <div className="task-warning">{p.warning}</div>}
    </div>
  );
}
