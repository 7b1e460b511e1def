import type { Notice } from "../lib/notices";

/** The notices above the page, newest last, each dismissable. */
export function Notices(props: { list: Notice[]; onDismiss: (key: number) => void }) {
  if (props.list.length === 0) return null;
  return (
    <div className="notices">
      {props.list.map((n) => (
        <div key={n.key} className={`notice ${n.tone}`} role={n.tone === "warning" ? "alert" : "status"} data-test="notice">
          <span>{n.message}</span>
          <button className="ghost small" onClick={() => props.onDismiss(n.key)} aria-label="Dismiss">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
