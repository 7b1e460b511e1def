import { bytes, eta, rate } from "../lib/format";
import { fraction, type Transfer } from "../lib/transfers";

/** Uploads, downloads and pulls, each with progress and pause / resume / cancel. */
export function TransfersPanel(props: {
  list: Transfer[];
  onPause: (key: number) => void;
  onResume: (key: number) => void;
  onCancel: (key: number) => void;
  onDismiss: (key: number) => void;
}) {
  if (props.list.length === 0) return null;
  return (
    <div className="transfers" role="status" aria-live="polite" data-test="transfers">
      <div className="transfers-head">Transfers</div>
      {props.list.map((t) => {
        const p = t.progress;
        return (
          <div key={t.key} className={`transfer ${t.status}`} data-test={`transfer-${t.status}`}>
            <div className="task-head">
              <strong>{t.title}</strong>
              <span className="task-phase">{t.status === "running" ? (p ? p.phase : "starting") : t.status}</span>
              {t.status === "running" && (
                <>
                  <button className="small" onClick={() => props.onPause(t.key)} data-test="pause-transfer">
                    Pause
                  </button>
                  <button className="danger small" onClick={() => props.onCancel(t.key)} data-test="cancel-transfer">
                    Cancel
                  </button>
                </>
              )}
              {(t.status === "paused" || t.status === "failed") && (
                <button className="small" onClick={() => props.onResume(t.key)} data-test="resume-transfer">
                  {t.status === "paused" ? "Resume" : "Retry"}
                </button>
              )}
              {t.status !== "running" && (
                <button className="ghost small" onClick={() => props.onDismiss(t.key)} aria-label="Dismiss">
                  ×
                </button>
              )}
            </div>
            <div className="bar">
              <div className="bar-fill" style={{ width: `${(fraction(p) * 100).toFixed(1)}%` }} />
            </div>
            <div className="task-figures">
              {p && (
                <>
                  <span>
                    {p.files.toLocaleString("en-US")}
                    {p.totalFiles ? ` / ${p.totalFiles.toLocaleString("en-US")}` : ""} objects
                  </span>
                  <span>
                    {bytes(p.bytes)}
                    {p.totalBytes ? ` / ${bytes(p.totalBytes)}` : ""}
                  </span>
                  {t.status === "running" && <span>{rate(p.rate)}</span>}
                  {t.status === "running" && <span>{eta(p.bytes, p.totalBytes, p.rate)}</span>}
                </>
              )}
            </div>
            {t.message && <div className={t.status === "failed" ? "task-warning" : "muted"}>{t.message}</div>}
          </div>
        );
      })}
    </div>
  );
}
