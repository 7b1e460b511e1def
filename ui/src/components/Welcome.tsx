import type { CatalogDto } from "../api";
import { bytes, count, when } from "../lib/format";

export function Welcome(props: { catalog: CatalogDto | null; onNew: () => void; onOpen: (d: string) => void }) {
  const datasets = props.catalog?.datasets ?? [];
  if (datasets.length === 0) {
    return (
      <div className="welcome">
        <div className="drop-hint">
          <h1>Version your training data</h1>
          <p>Turn a folder into a dataset. Every file is stored once; any version comes back in seconds.</p>
          <button className="primary big" onClick={props.onNew} data-test="welcome-new">
            New dataset from folder
          </button>
          <p className="muted">…or drop a folder anywhere on this window.</p>
        </div>
      </div>
    );
  }
  return (
    <div className="page">
      <h1>Datasets</h1>
      <div className="cards">
        {datasets.map((d) => {
          const full = `${d.project}/${d.name}`;
          return (
            <button key={full} className="card" onClick={() => props.onOpen(full)}>
              <div className="card-title">{full}</div>
              {d.latest && (
                <div className="muted">
                  {d.latest.semver} · {count(d.latest.fileCount, "file")} · {bytes(d.latest.totalBytes)} · {when(d.latest.createdAt)}
                </div>
              )}
              <div className="muted">{count(d.versionCount, "version")}</div>
            </button>
          );
        })}
      </div>
    </div>
  );
}
