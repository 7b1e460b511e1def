import { useEffect, useRef, useState } from "react";
import { api, type FilePageDto } from "../api";
import { FilePreview, ThumbnailGrid, isImagePath } from "./FilePreview";
import type { ReportError } from "../lib/errors";
import { bytes } from "../lib/format";
import { pageOf, visibleRows } from "../lib/virtual";

const ROW = 28;
const PAGE = 500;

/** A version's files, virtualized: rows are fetched a page at a time as they scroll into view,
 *  so a million entries scroll like a hundred. */
export function FileBrowser(props: { reference: string; refresh: number; onError: ReportError }) {
  const [glob, setGlob] = useState("");
  const [total, setTotal] = useState(0);
  const [pages, setPages] = useState<Map<number, FilePageDto>>(new Map());
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(480);
  const box = useRef<HTMLDivElement>(null);
  const loading = useRef<Set<number>>(new Set());

  const [attempt, setAttempt] = useState(0);
  const [grid, setGrid] = useState(false);
  const [previewing, setPreviewing] = useState<string | null>(null);
  const retry = () => setAttempt((n) => n + 1);
  /** The filter of the listing asked for last, and which listing that was: an answer for an
   *  older one (a filter typed over, another version) must not land in this one's pages. */
  const asked = useRef<{ glob: string | null; n: number }>({ glob: null, n: 0 });
  useEffect(() => {
    setPages(new Map());
    loading.current.clear();
    setTotal(0);
    // Typing waits for a pause (each keystroke would list the whole version again); opening a
    // version or coming back to it asks at once.
    const typed = asked.current.glob !== null && asked.current.glob !== glob;
    asked.current = { glob, n: asked.current.n + 1 };
    const n = asked.current.n;
    const t = setTimeout(
      () => {
        api.files(props.reference, glob, 0, PAGE).then(
          (p) => {
            if (asked.current.n !== n) return;
            setTotal(p.total);
            setPages(new Map([[0, p]]));
          },
          (e) => asked.current.n === n && props.onError(e, { retry }),
        );
      },
      typed ? 150 : 0,
    );
    return () => clearTimeout(t);
  }, [props.reference, glob, props.refresh, attempt]);

  useEffect(() => {
    if (box.current) setViewHeight(box.current.clientHeight || 480);
  }, []);

  const w = visibleRows(total, ROW, scrollTop, viewHeight);
  useEffect(() => {
    for (let i = pageOf(w.first, PAGE); i < w.last; i += PAGE) {
      if (pages.has(i) || loading.current.has(i)) continue;
      loading.current.add(i);
      const n = asked.current.n;
      api.files(props.reference, glob, i, PAGE).then(
        (p) => asked.current.n === n && setPages((old) => new Map(old).set(i, p)),
        (e) => {
          if (asked.current.n !== n) return;
          // Let the page be asked for again when it scrolls into view, or on Retry.
          loading.current.delete(i);
          props.onError(e, { retry });
        },
      );
    }
  }, [w.first, w.last, pages]);

  const rows = [];
  for (let i = w.first; i < w.last; i++) {
    const page = pages.get(pageOf(i, PAGE));
    const f = page?.files[i - pageOf(i, PAGE)];
    rows.push(
      <div
        className={`file-row ${f ? "clickable" : ""}`}
        key={i}
        style={{ height: ROW }}
        onClick={() => f && setPreviewing(f.path)}
        title={f ? "Preview" : undefined}
        data-test={f ? `file-${f.path}` : undefined}
      >
        <span className="file-path">{f ? f.path : "…"}</span>
        <span className="file-size">{f ? bytes(f.size) : ""}</span>
        <span className="file-hash" title={f?.hash}>{f ? f.hash.slice(0, 12) : ""}</span>
      </div>,
    );
  }
  return (
    <div className="file-browser">
      <div className="file-toolbar">
        <input
          placeholder="Filter by glob, e.g. *.jpg or train/**"
          value={glob}
          onChange={(e) => setGlob(e.target.value)}
          aria-label="Filter files"
          data-test="file-filter"
        />
        <span className="muted" data-test="file-count">
          {total.toLocaleString("en-US")} {total === 1 ? "file" : "files"}
        </span>
        <label className="check">
          <input type="checkbox" checked={grid} onChange={(e) => setGrid(e.target.checked)} data-test="file-grid-toggle" /> Thumbnails
        </label>
      </div>
      {grid ? (
        <ThumbnailGrid
          reference={props.reference}
          paths={(pages.get(0)?.files ?? []).map((f) => f.path).filter(isImagePath)}
          onOpen={setPreviewing}
        />
      ) : (
        <div className="file-list" ref={box} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)} data-test="file-list">
          <div style={{ height: w.padTop }} />
          {rows}
          <div style={{ height: w.padBottom }} />
        </div>
      )}
      {previewing && <FilePreview reference={props.reference} path={previewing} onClose={() => setPreviewing(null)} />}
    </div>
  );
}
