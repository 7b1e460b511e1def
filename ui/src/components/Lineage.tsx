import { uploadLabel } from "../lib/format";
import type { VersionDto } from "../api";
import { layout } from "../lib/lineage";

const ROW = 44;
const COL = 22;

/** The version DAG: newest on top, a dot per version, an edge per parent; state and upload
 *  shown as badges beside each version. */
export function Lineage(props: {
  versions: VersionDto[];
  selected: Set<string>;
  onOpen: (id: string) => void;
  onToggle: (id: string) => void;
}) {
  const l = layout(props.versions.map((v) => ({ id: v.id, parents: v.parents })));
  const pos = new Map(l.placed.map((p) => [p.id, p]));
  const width = l.columns * COL + 12;
  const height = Math.max(ROW, props.versions.length * ROW);
  const x = (c: number) => 12 + c * COL;
  const y = (r: number) => r * ROW + ROW / 2;
  return (
    <div className="lineage" data-test="lineage">
      <svg width={width} height={height} aria-hidden>
        {l.edges.map((e) => {
          const a = pos.get(e.from);
          const b = pos.get(e.to);
          if (!a || !b) return null;
          const d =
            a.col === b.col
              ? `M${x(a.col)},${y(a.row)} L${x(b.col)},${y(b.row)}`
              : `M${x(a.col)},${y(a.row)} C${x(a.col)},${y(a.row) + ROW / 2} ${x(b.col)},${y(a.row) + ROW / 2} ${x(b.col)},${y(a.row) + ROW} L${x(b.col)},${y(b.row)}`;
          return <path key={`${e.from}-${e.to}`} d={d} className="edge" />;
        })}
        {l.placed.map((p) => {
          const v = props.versions[p.row];
          return <circle key={p.id} cx={x(p.col)} cy={y(p.row)} r={6} className={`dot ${v.state}`} />;
        })}
      </svg>
      <div className="lineage-rows">
        {props.versions.map((v) => (
          <div key={v.id} className="lineage-row" style={{ height: ROW }}>
            <input
              type="checkbox"
              checked={props.selected.has(v.id)}
              onChange={() => props.onToggle(v.id)}
              aria-label={`select ${v.semver}`}
            />
            <button className="link" onClick={() => props.onOpen(v.id)} data-test={`version-${v.semver}`}>
              {v.semver}
            </button>
            <span className={`badge ${v.state}`}>{v.state}</span>
            <span className={`badge upload-${v.uploadState}`}>{uploadLabel(v.uploadState)}</span>
            {v.parents.length > 1 && <span className="badge merge">merge</span>}
            <span className="muted">
              {v.fileCount.toLocaleString("en-US")} files{v.tags.length > 0 && ` · ${v.tags.map((t) => `#${t}`).join(" ")}`}
            </span>
          </div>
        ))}
      </div>
    </div>
  );
}
