import { useMemo, useState } from "react";
import type { CatalogDto } from "../api";

export interface Selection {
  dataset?: string;
}

/** Projects (nested) and their datasets, with a search box and a tag filter. */
export function Sidebar(props: {
  catalog: CatalogDto | null;
  current?: string;
  offline: boolean;
  onToggleOffline: () => void;
  /** "Unreachable" next to the switch: the default remote did not answer the last probe. */
  unreachable: { text: string; title: string } | null;
  /** Versions and catalog changes waiting to be sent; null hides the action (no remote). */
  waiting: number | null;
  onWaiting: () => void;
  onOpen: (dataset: string) => void;
  onNew: () => void;
  onHome: () => void;
  onRemotes: () => void;
  onWatches: () => void;
  onExport: () => void;
  onImport: () => void;
}) {
  const [query, setQuery] = useState("");
  const [tag, setTag] = useState("");
  const datasets = props.catalog?.datasets ?? [];
  const tags = useMemo(() => {
    const all = new Set<string>();
    for (const d of datasets) for (const t of d.latest?.tags ?? []) all.add(t);
    return [...all].sort();
  }, [datasets]);
  const shown = datasets.filter((d) => {
    const full = `${d.project}/${d.name}`.toLowerCase();
    return full.includes(query.toLowerCase()) && (!tag || (d.latest?.tags ?? []).includes(tag));
  });
  const byProject = new Map<string, typeof shown>();
  for (const d of shown) byProject.set(d.project, [...(byProject.get(d.project) ?? []), d]);
  return (
    <nav className="sidebar">
      <button className="brand" onClick={props.onHome}>
        <span className="logo" aria-hidden>
          <i />
          <i />
          <i />
        </span>
        Strata
      </button>
      <button className="primary wide" onClick={props.onNew} data-test="new-dataset">
        + New dataset from folder
      </button>
      <input
        className="search"
        placeholder="Search datasets"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        aria-label="Search datasets"
      />
      {tags.length > 0 && (
        <select value={tag} onChange={(e) => setTag(e.target.value)} aria-label="Filter by tag">
          <option value="">All tags</option>
          {tags.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      )}
      <div className="tree">
        {[...byProject.entries()].map(([project, ds]) => (
          <div key={project} className="project">
            <div className="project-name" style={{ paddingLeft: 8 + 10 * (project.split("/").length - 1) }}>
              {project}
            </div>
            {ds.map((d) => {
              const full = `${d.project}/${d.name}`;
              return (
                <button
                  key={full}
                  className={`dataset-link ${props.current === full ? "active" : ""}`}
                  style={{ paddingLeft: 20 + 10 * (project.split("/").length - 1) }}
                  onClick={() => props.onOpen(full)}
                  data-test={`dataset-${full}`}
                >
                  <span>{d.name}</span>
                  <span className="muted">{d.latest?.semver ?? "—"}</span>
                </button>
              );
            })}
          </div>
        ))}
        {datasets.length > 0 && shown.length === 0 && <div className="muted pad">No dataset matches.</div>}
      </div>
      <button className="ghost wide remotes-link" onClick={props.onWatches} data-test="open-watches">
        Watched folders
      </button>
      <button className="ghost wide remotes-link" onClick={props.onRemotes} data-test="open-remotes">
        Remotes &amp; sharing
      </button>
      {props.waiting !== null && (
        <button className="ghost wide remotes-link" onClick={props.onWaiting} data-test="open-waiting">
          Upload &amp; finalize waiting ({props.waiting})
        </button>
      )}
      <div className="session-links">
        <button className="ghost" onClick={props.onExport} title="Datasets with their drafts and content in one file, for another computer" data-test="open-export">
          Export session…
        </button>
        <button className="ghost" onClick={props.onImport} title="Bring in a session file made on another computer" data-test="open-import">
          Import session…
        </button>
      </div>
      <button
        className={`offline-toggle ${props.offline ? "on" : ""}`}
        onClick={props.onToggleOffline}
        aria-pressed={props.offline}
        title={
          props.offline
            ? "Offline: nothing is sent or fetched; uploads and catalog changes wait. Click to go online."
            : "Online. Click to work offline: uploads and catalog changes wait until you go online."
        }
        data-test="offline-toggle"
      >
        <span className="dot" aria-hidden />
        <span>{props.offline ? "Offline" : "Online"}</span>
        <span className="offline-action">{props.offline ? "Go online" : "Work offline"}</span>
      </button>
      {props.unreachable && (
        <div className="unreachable" title={props.unreachable.title} data-test="unreachable">
          <span className="badge upload-pending">{props.unreachable.text}</span> <span>{props.unreachable.title}</span>
        </div>
      )}
      {props.catalog && (
        <div className="home-path" title={props.catalog.home}>
          Catalog: {props.catalog.home}
        </div>
      )}
    </nav>
  );
}
