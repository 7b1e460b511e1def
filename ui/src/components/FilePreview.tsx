import { useEffect, useState } from "react";
import { api, asApiError, type ApiError, type PreviewDto, type ThumbDto } from "../api";
import { ErrorView } from "./ErrorView";
import { Modal } from "./Modal";

/** Thumbnails asked for at a time: one screenful of the grid. */
const BATCH = 60;
const IMAGE = /\.(jpe?g|png|webp|bmp|tiff?)$/i;

/** Whether a path names an image the grid can show (its bytes decide in the end). */
export function isImagePath(path: string): boolean {
  return IMAGE.test(path);
}

/** One file of a version, seen: the picture, the first rows of a table, the head of a text, or
 *  why it cannot be shown. */
export function FilePreview(props: { reference: string; path: string; onClose: () => void }) {
  const [p, setP] = useState<PreviewDto | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    setP(null);
    setError(null);
    api.preview(props.reference, props.path).then(
      (x) => live && setP(x),
      (e) => live && setError(asApiError(e)),
    );
    return () => {
      live = false;
    };
  }, [props.reference, props.path, attempt]);
  return (
    <Modal title={props.path} onClose={props.onClose}>
      <div className="file-preview" data-test="file-preview">
        {!p && !error && <div className="muted">Loading…</div>}
        {error && <ErrorView error={error} compact remedies={{ retry: () => setAttempt((n) => n + 1) }} />}
        {p && <PreviewBody p={p} />}
      </div>
    </Modal>
  );
}

function Notes(props: { notes: string[] }) {
  if (props.notes.length === 0) return null;
  return (
    <ul className="muted notes">
      {props.notes.map((n, i) => (
        <li key={i}>{n}</li>
      ))}
    </ul>
  );
}

function PreviewBody(props: { p: PreviewDto }) {
  const p = props.p;
  switch (p.kind) {
    case "image":
      return (
        <figure>
          <img src={`data:image/png;base64,${p.png}`} width={p.width} height={p.height} alt="" data-test="preview-image" />
          <figcaption className="muted">
            {p.format}, {p.sourceWidth} × {p.sourceHeight} px
          </figcaption>
        </figure>
      );
    case "table":
      return (
        <div className="preview-table" data-test="preview-table">
          <table>
            <thead>
              <tr>
                {p.columns.map((c, i) => (
                  <th key={i}>{c}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {p.rows.map((r, i) => (
                <tr key={i}>
                  {r.map((cell, j) => (
                    <td key={j}>{cell}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {p.truncated && <div className="muted">First {p.rows.length} rows.</div>}
          <Notes notes={p.notes} />
        </div>
      );
    case "text":
      return (
        <div data-test="preview-text">
          <pre className="preview-text">{p.text}</pre>
          {p.truncated && <div className="muted">The beginning of the file.</div>}
          <Notes notes={p.notes} />
        </div>
      );
    default:
      return (
        <div className="muted" data-test="preview-unavailable">
          {p.why}
        </div>
      );
  }
}

/** The image files among the listed ones as a grid of thumbnails, a screenful at a time. */
export function ThumbnailGrid(props: { reference: string; paths: string[]; onOpen: (path: string) => void }) {
  const [shown, setShown] = useState(BATCH);
  const [thumbs, setThumbs] = useState<Map<string, ThumbDto>>(new Map());
  const [error, setError] = useState<ApiError | null>(null);
  const wanted = props.paths.slice(0, shown);
  const key = wanted.join("\n");
  useEffect(() => {
    const missing = wanted.filter((p) => !thumbs.has(p));
    if (missing.length === 0) return;
    let live = true;
    api.thumbnails(props.reference, missing).then(
      (made) => {
        if (!live) return;
        setThumbs((old) => {
          const next = new Map(old);
          for (const t of made) next.set(t.path, t);
          return next;
        });
      },
      (e) => live && setError(asApiError(e)),
    );
    return () => {
      live = false;
    };
  }, [props.reference, key]);
  useEffect(() => {
    setThumbs(new Map());
    setShown(BATCH);
  }, [props.reference]);

  if (props.paths.length === 0) return <div className="empty">No images among these files.</div>;
  return (
    <div className="thumb-grid" data-test="thumb-grid">
      {error && <ErrorView error={error} compact />}
      {wanted.map((path) => {
        const t = thumbs.get(path);
        return (
          <button key={path} className="thumb" title={t?.error ?? path} onClick={() => props.onOpen(path)} data-test={`thumb-${path}`}>
            {t?.png ? <img src={`data:image/png;base64,${t.png}`} alt={path} /> : <span className="muted">{t ? "no preview" : "…"}</span>}
            <span className="thumb-name">{path.split("/").pop()}</span>
          </button>
        );
      })}
      {props.paths.length > shown && (
        <button className="thumb more" onClick={() => setShown((n) => n + BATCH)}>
          {(props.paths.length - shown).toLocaleString("en-US")} more…
        </button>
      )}
    </div>
  );
}
