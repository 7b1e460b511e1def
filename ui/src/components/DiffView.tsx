import { useEffect, useState } from "react";
import { api, type DiffDto } from "../api";
import type { ReportError } from "../lib/errors";
import { bytes } from "../lib/format";

export function DiffView(props: { from: string; to: string; onOpenVersion: (id: string) => void; onError: ReportError }) {
  const [d, setD] = useState<DiffDto | null>(null);
  const [tab, setTab] = useState<"added" | "modified" | "removed">("added");
  const load = () => api.diff(props.from, props.to).then(setD, (e) => props.onError(e, { retry: load }));
  useEffect(() => {
    load();
  }, [props.from, props.to]);
  if (!d) return <div className="page muted">Comparing…</div>;
  const t = d.totals;
  const rows =
    tab === "added"
      ? d.added.map((f) => [f.path, bytes(f.size)])
      : tab === "removed"
        ? d.removed.map((f) => [f.path, bytes(f.size)])
        : d.modified.map((m) => [m.path, `${bytes(m.oldSize)} → ${bytes(m.newSize)}`]);
  const shownOf = tab === "added" ? t.added : tab === "removed" ? t.removed : t.modified;
  return (
    <div className="page">
      <h1>
        <button className="link" onClick={() => props.onOpenVersion(d.from.id)}>{d.from.semver}</button> →{" "}
        <button className="link" onClick={() => props.onOpenVersion(d.to.id)}>{d.to.semver}</button>
      </h1>
      <div className="muted">{d.to.project}/{d.to.dataset}</div>
      <div className="summary" data-test="diff-totals">
        <button className={`stat ${tab === "added" ? "active" : ""}`} onClick={() => setTab("added")}>
          <div className="stat-value added" data-test="diff-added">{t.added.toLocaleString("en-US")}</div>
          <div className="stat-label">added · {bytes(t.addedBytes)}</div>
        </button>
        <button className={`stat ${tab === "modified" ? "active" : ""}`} onClick={() => setTab("modified")}>
          <div className="stat-value modified" data-test="diff-modified">{t.modified.toLocaleString("en-US")}</div>
          <div className="stat-label">modified · {bytes(t.modifiedBytes)}</div>
        </button>
        <button className={`stat ${tab === "removed" ? "active" : ""}`} onClick={() => setTab("removed")}>
          <div className="stat-value removed" data-test="diff-removed">{t.removed.toLocaleString("en-US")}</div>
          <div className="stat-label">removed · {bytes(t.removedBytes)}</div>
        </button>
        <div className="stat">
          <div className="stat-value">{t.unchanged.toLocaleString("en-US")}</div>
          <div className="stat-label">unchanged</div>
        </div>
      </div>
      <div className="diff-list">
        {rows.map(([p, s]) => (
          <div key={p} className={`file-row ${tab}`}>
            <span className="file-path">{p}</span>
            <span className="file-size">{s}</span>
          </div>
        ))}
        {rows.length === 0 && <div className="muted pad">Nothing {tab}.</div>}
        {rows.length < shownOf && <div className="muted pad">Showing the first {rows.length.toLocaleString("en-US")} of {shownOf.toLocaleString("en-US")}.</div>}
      </div>
    </div>
  );
}
