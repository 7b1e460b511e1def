import { useEffect, useState } from "react";
import { api, asApiError, type ApiError, type InsightDto, type ProgressDto, type RegionDto } from "../api";
import { count } from "../lib/format";
import { deltaWords, share, svgSource } from "../lib/insight";
import { ErrorView } from "./ErrorView";

/** The label sources one can name, with what follows the colon. */
const SPELLINGS = ["auto", "imagefolder", "csv:FILE:COLUMN", "coco:FILE", "yolo:DATA_YAML", "voc:DIR"];
/** Rows of long lists (moved files, warnings) shown before "and N more". */
const SHOWN = 20;

/** A version's Insight section: its label source (detected, changeable), the class histogram per
 *  split with the counts in a table, what is wrong with the labels, and against another version
 *  (its parent by default) how the classes moved. Counting runs in the background; the first
 *  time a version is counted can take a while for a large label file, later it is cached. */
export function InsightSection(props: {
  reference: string;
  /** Other versions of the dataset to compare with; the first is proposed (its parent). */
  others: { id: string; label: string }[];
  refresh: number;
}) {
  const [labels, setLabels] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [against, setAgainst] = useState<string | null>(null);
  const [data, setData] = useState<InsightDto | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [progress, setProgress] = useState<ProgressDto | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    setLabels(null);
    setAgainst(null);
  }, [props.reference]);

  useEffect(() => {
    let live = true;
    setError(null);
    setProgress(null);
    const t = api.insight(props.reference, labels, against, (p) => live && setProgress(p));
    t.done.then(
      (d) => {
        if (!live) return;
        setData(d);
        setProgress(null);
      },
      (e) => {
        if (!live) return;
        setError(asApiError(e));
        setProgress(null);
      },
    );
    return () => {
      live = false;
      t.cancel();
    };
  }, [props.reference, labels, against, props.refresh, attempt]);

  const counting = progress !== null || (!data && !error);
  return (
    <section className="insight" data-test="insight">
      <div className="section-head">
        <h2>Insight</h2>
        <div className="actions">
          <label className="inline">
            Compare with{" "}
            <select
              value={against ?? ""}
              onChange={(e) => setAgainst(e.target.value || null)}
              data-test="insight-against"
            >
              <option value="">—</option>
              {props.others.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      {counting && (
        <div className="muted" data-test="insight-counting">
          Counting labels…
          {progress && progress.totalFiles > 0 && ` ${progress.files.toLocaleString("en-US")} of ${progress.totalFiles.toLocaleString("en-US")} files`}
        </div>
      )}
      {error && <ErrorView error={error} compact test="insight-error" remedies={{ retry: () => setAttempt((n) => n + 1) }} />}
      {data && !error && (
        <>
          <div className="insight-source" data-test="insight-source">
            <span>
              Labels: <strong>{formatName(data.format)}</strong>
              {labels === null && data.format !== "none" && <span className="muted"> (detected)</span>}
            </span>
            {editing === null ? (
              <button className="link" onClick={() => setEditing(data.labels)} data-test="insight-change-source">
                Change…
              </button>
            ) : (
              <form
                className="inline-form"
                onSubmit={(e) => {
                  e.preventDefault();
                  const v = editing.trim();
                  setLabels(v === "" || v === "auto" ? null : v);
                  setEditing(null);
                }}
              >
                <input
                  list="label-spellings"
                  value={editing}
                  onChange={(e) => setEditing(e.target.value)}
                  aria-label="Label source"
                  data-test="insight-source-input"
                />
                <datalist id="label-spellings">
                  {SPELLINGS.map((s) => (
                    <option key={s} value={s} />
                  ))}
                </datalist>
                <button type="submit">Count</button>
                <button type="button" onClick={() => setEditing(null)}>
                  Cancel
                </button>
              </form>
            )}
          </div>
          {data.evidence.length > 0 && (
            <ul className="muted evidence">
              {data.evidence.slice(0, 4).map((e) => (
                <li key={e}>{e}</li>
              ))}
            </ul>
          )}
          <div className="insight-totals" data-test="insight-totals">
            {count(data.images, "image")} · {count(data.classes.length, "class", "classes")} · {count(data.instances, "instance")}
            {data.unlabelled > 0 && ` · ${data.unlabelled.toLocaleString("en-US")} unlabelled`}
            {data.cached && <span className="muted"> · from the cache</span>}
          </div>
          {data.imbalance && (
            <div className="warning-line" data-test="insight-imbalance">
              Imbalanced: {data.imbalance}
            </div>
          )}
          {data.sizes && <div className="muted">{data.sizes}</div>}
          {data.classes.length > 0 && (
            <div className="insight-body">
              <Chart svg={data.svg} regions={data.regions} alt={`Class histogram of ${data.version}`} test="insight-chart" />
              <ClassTable data={data} />
            </div>
          )}
          {data.against && (
            <div className="insight-compare" data-test="insight-compare">
              <h3>Against {data.against.version}</h3>
              <p data-test="insight-summary">{data.against.summary || "No class changed."}</p>
              <Chart
                svg={data.against.svg}
                regions={data.against.regions}
                alt={`Classes of ${data.version} against ${data.against.version}`}
                test="insight-compare-chart"
              />
              {data.against.delta.length > 0 && (
                <table className="delta-table" data-test="insight-delta">
                  <thead>
                    <tr>
                      <th>Class</th>
                      <th>Images</th>
                      <th>Instances</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.against.delta.map((d) => (
                      <tr key={d.name}>
                        <td>{d.name}</td>
                        <td className={d.images < 0 ? "minus" : "plus"}>{deltaWords(d.images)}</td>
                        <td className={d.instances < 0 ? "minus" : "plus"}>{deltaWords(d.instances)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {data.against.movedCount > 0 && (
                <details>
                  <summary data-test="insight-moved">{count(data.against.movedCount, "file")} changed class</summary>
                  <ul className="moved">
                    {data.against.moved.slice(0, SHOWN).map((m) => (
                      <li key={m.path}>
                        <span className="mono">{m.path}</span>: {m.from || "unlabelled"} → {m.to || "unlabelled"}
                      </li>
                    ))}
                    {data.against.movedCount > SHOWN && <li className="muted">and {(data.against.movedCount - SHOWN).toLocaleString("en-US")} more</li>}
                  </ul>
                </details>
              )}
            </div>
          )}
          {data.warnings.length > 0 && (
            <details className="insight-warnings">
              <summary data-test="insight-warnings">{count(data.warnings.length, "warning")}</summary>
              <ul>
                {data.warnings.slice(0, SHOWN).map((w, i) => (
                  <li key={i} className="mono">
                    {w}
                  </li>
                ))}
                {data.warnings.length > SHOWN && <li className="muted">and {data.warnings.length - SHOWN} more</li>}
              </ul>
            </details>
          )}
        </>
      )}
    </section>
  );
}

function formatName(format: string): string {
  switch (format) {
    case "imagefolder":
      return "ImageFolder (class = folder)";
    case "csv":
      return "CSV column";
    case "coco":
      return "COCO JSON";
    case "yolo":
      return "YOLO";
    case "voc":
      return "Pascal VOC";
    default:
      return "none found";
  }
}

/** Each class's counts, with its share and one column per split (hover a cell for its words). */
function ClassTable(props: { data: InsightDto }) {
  const d = props.data;
  return (
    <table className="class-table" data-test="insight-classes">
      <thead>
        <tr>
          <th>Class</th>
          <th>Images</th>
          <th>Instances</th>
          <th>Share</th>
          {d.splitNames.map((s) => (
            <th key={s}>{s}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {d.classes.map((c) => (
          <tr key={c.name} data-test={`insight-class-${c.name}`}>
            <td>{c.name}</td>
            <td>{c.images.toLocaleString("en-US")}</td>
            <td>{c.instances.toLocaleString("en-US")}</td>
            <td>{share(c.instances, d.instances)}</td>
            {c.splits.map((n, i) => (
              <td key={i} title={`${c.name} in ${d.splitNames[i]}: ${count(n, "instance")}`}>
                {n.toLocaleString("en-US")}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A chart picture with a hover area over each class: the pointer on a bar shows its counts. */
function Chart(props: { svg: string; regions: RegionDto[]; alt: string; test: string }) {
  return (
    <div className="chart-wrap">
      <img className="chart" src={svgSource(props.svg)} alt={props.alt} data-test={props.test} />
      {props.regions.map((r, i) => (
        <div
          key={i}
          className="chart-region"
          style={{ left: `${r.x * 100}%`, top: `${r.y * 100}%`, width: `${r.w * 100}%`, height: `${r.h * 100}%` }}
          title={r.tip}
          data-test="chart-region"
        />
      ))}
    </div>
  );
}
