import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { listen } from "@tauri-apps/api/event";
import { api, asApiError, type ApiError, type WatchDto } from "../api";
import { advice, type ReportError } from "../lib/errors";
import { changeSummary } from "../lib/format";
import type { StartTask } from "../lib/tasks";
import { duration, quietMs, settling, throttle, watchStatus } from "../lib/watches";
import { ErrorView } from "./ErrorView";
import { FolderInput } from "./FolderInput";
import { Field, Modal } from "./Modal";

/** At most this many redraws a second while watches are busy. */
const REDRAW_EVERY_MS = 300;
/** How soon to look again while a watch starts or stops (nothing announces either). */
const SETTLE_LOOK_MS = 1000;

/** Watched folders: each time writing in a folder stops for its quiet window, the folder becomes
 *  the next version of a dataset. The list follows the watches live (`watch://state`,
 *  `catalog://changed`); a watch can be paused, removed, or versioned at once. */
export function WatchesPage(props: {
  refresh: number;
  start: StartTask;
  onOpenVersion: (reference: string) => void;
  onOpenDataset: (dataset: string) => void;
  onError: ReportError;
  onNotice: (m: string) => void;
}) {
  const [list, setList] = useState<WatchDto[] | null>(null);
  const [removing, setRemoving] = useState<WatchDto | null>(null);
  const loadNow = useRef<() => void>(() => {});
  loadNow.current = () => api.watches().then(setList, (e) => props.onError(e, { retry: () => loadNow.current() }));
  const loader = useMemo(() => throttle(() => loadNow.current(), REDRAW_EVERY_MS), []);

  useEffect(() => {
    const state = listen("watch://state", () => loader.call());
    const catalog = listen("catalog://changed", () => loader.call());
    return () => {
      loader.cancel();
      state.then((f) => f());
      catalog.then((f) => f());
    };
  }, [loader]);
  useEffect(() => loader.call(), [loader, props.refresh]);
  useEffect(() => {
    if (!list?.some(settling)) return;
    const t = setTimeout(() => loader.call(), SETTLE_LOOK_MS);
    return () => clearTimeout(t);
  }, [list, loader]);

  const act = async (f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (e) {
      props.onError(e, { retry: () => act(f) });
    }
    loader.call();
  };
  const versionNow = (w: WatchDto) =>
    props.start({
      title: `Version now: ${w.folder}`,
      start: (p) => api.versionNow(w.id, p),
      describe: (c) =>
        c.created
          ? `${w.dataset} ${c.version.semver}: ${changeSummary(c.changes)}`
          : `No changes since ${c.version.semver}; no new version.`,
    });

  if (!list) return <div className="page muted">Loading…</div>;
  return (
    <div className="page" data-test="watches-page">
      <div className="page-head">
        <div>
          <h1>Watched folders</h1>
          <div className="muted">
            Each time writing in a watched folder stops for its quiet window, the folder becomes the next version of its dataset.
            Watches run while this app is open (closing the window keeps them running in the tray), or as a service (
            <span className="mono">strata watch run</span>).
          </div>
        </div>
        <StartAtLogin onError={props.onError} />
      </div>
      {list.length === 0 && (
        <div className="empty">No watched folder yet. Pick a folder below: a labelling tool or a camera writing into it makes versions on its own.</div>
      )}
      {list.length > 0 && (
        <table className="remotes watches">
          <tbody>
            {list.map((w) => (
              <WatchRow
                key={w.id}
                watch={w}
                onOpenVersion={props.onOpenVersion}
                onOpenDataset={props.onOpenDataset}
                onPause={() => act(() => api.pauseWatch(w.id, !w.paused))}
                onVersionNow={() => versionNow(w)}
                onRemove={() => setRemoving(w)}
              />
            ))}
          </tbody>
        </table>
      )}
      <AddWatch
        onAdded={(w) => {
          props.onNotice(`Watching ${w.folder} for ${w.dataset}.`);
          loader.call();
        }}
      />
      {removing && (
        <Modal
          title="Stop watching this folder?"
          onClose={() => setRemoving(null)}
          footer={
            <>
              <button onClick={() => setRemoving(null)}>Cancel</button>
              <button
                className="danger"
                data-test="watch-remove-confirm"
                onClick={() => {
                  const w = removing;
                  setRemoving(null);
                  act(() => api.removeWatch(w.id));
                }}
              >
                Stop watching
              </button>
            </>
          }
        >
          <div>
            <span className="mono">{removing.folder}</span> will no longer become versions of {removing.dataset}. The folder and the
            versions it made stay.
          </div>
        </Modal>
      )}
    </div>
  );
}

/** The login item: the app starts in the tray at login, so watches run without opening it. */
function StartAtLogin(props: { onError: ReportError }) {
  const [on, setOn] = useState<boolean | null>(null);
  useEffect(() => {
    api.startAtLogin().then(setOn, () => setOn(null));
  }, []);
  if (on === null) return null;
  const change = (to: boolean) =>
    api.setStartAtLogin(to).then(setOn, (e) => props.onError(e, { retry: () => change(to) }));
  return (
    <label className="check" title="Starts Strata in the tray when you log in, so watched folders keep making versions.">
      <input type="checkbox" checked={on} data-test="start-at-login" onChange={(e) => change(e.target.checked)} />
      Start at login
    </label>
  );
}

function WatchRow(props: {
  watch: WatchDto;
  onOpenVersion: (reference: string) => void;
  onOpenDataset: (dataset: string) => void;
  onPause: () => void;
  onVersionNow: () => void;
  onRemove: () => void;
}) {
  const w = props.watch;
  const status = watchStatus(w);
  const last = w.newestVersion ?? w.lastVersion;
  const failure: ApiError | null =
    status.tone === "error" && w.reason
      ? { code: "watch", kind: w.kind ?? "internal", message: w.reason, remote: null, remedy: null }
      : null;
  return (
    <tr data-test="watch-row" data-folder={w.folder} className={w.paused ? "paused" : ""}>
      <td>
        <div className="mono watch-folder" title={w.folder}>
          {w.folder}
        </div>
        <div className="watch-facts">
          →{" "}
          <button className="link" onClick={() => props.onOpenDataset(w.dataset)} data-test="watch-dataset-link">
            {w.dataset}
          </button>
          <span className="muted">
            {" "}
            · quiet {duration(w.quietMs)}
            {w.upload ? " · uploads each version" : ""}
            {w.pollMs !== null ? ` · polls every ${duration(w.pollMs)}` : ""}
          </span>
        </div>
        <div className="watch-facts">
          <span className="muted">Last version: </span>
          {last ? (
            <button className="link" onClick={() => props.onOpenVersion(last)} data-test="watch-last-version">
              {last}
            </button>
          ) : (
            <span className="muted" data-test="watch-last-version">
              none yet
            </span>
          )}
        </div>
      </td>
      <td className="watch-status">
        <span className={`badge watch-${status.tone}`} data-test="watch-state">
          {status.label}
        </span>
        {failure ? (
          <>
            <ErrorView error={failure} remedies={{ retry: props.onVersionNow }} compact test="watch-error" />
            {!advice(failure) && status.detail && (
              <div className="muted watch-detail" data-test="watch-detail">
                {status.detail}
              </div>
            )}
          </>
        ) : (
          status.detail && (
            <div className="muted watch-detail" data-test="watch-detail">
              {status.detail}
            </div>
          )
        )}
      </td>
      <td className="watch-actions">
        <button className="small" onClick={props.onVersionNow} data-test="watch-version-now" title="Make a version of the folder now">
          Version now
        </button>
        {w.paused ? (
          <button className="small" onClick={props.onPause} data-test="watch-resume">
            Resume
          </button>
        ) : (
          <button className="small" onClick={props.onPause} data-test="watch-pause">
            Pause
          </button>
        )}
        <button className="danger small" onClick={props.onRemove} data-test="watch-remove">
          Remove
        </button>
      </td>
    </tr>
  );
}

function AddWatch(props: { onAdded: (w: WatchDto) => void }) {
  const [folder, setFolder] = useState("");
  const [dataset, setDataset] = useState("");
  const [quiet, setQuiet] = useState("60");
  const [upload, setUpload] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    setError(null);
    const ms = quietMs(quiet);
    if (ms === null) {
      setError({ code: "invalid", kind: "invalid", message: "give the quiet window in seconds, e.g. 60", remote: null, remedy: null });
      return;
    }
    setBusy(true);
    try {
      const w = await api.addWatch({ folder: folder.trim(), dataset: dataset.trim(), quietMs: ms, maxWaitMs: null, pollMs: null, upload });
      setFolder("");
      setDataset("");
      props.onAdded(w);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="watch-form" onSubmit={submit} data-test="add-watch">
      <h2>Watch a folder</h2>
      <div className="row">
        <Field label="Folder">
          <FolderInput name="watch-folder" value={folder} onChange={setFolder} test="watch-folder" />
        </Field>
        <Field label="Dataset">
          <input
            value={dataset}
            onChange={(e) => setDataset(e.target.value)}
            placeholder="project/name"
            spellCheck={false}
            data-test="watch-dataset"
          />
        </Field>
        <Field label="Quiet window (s)">
          <input
            className="quiet-input"
            value={quiet}
            onChange={(e) => setQuiet(e.target.value)}
            inputMode="decimal"
            data-test="watch-quiet"
          />
        </Field>
      </div>
      <div className="row watch-form-foot">
        <label className="check">
          <input type="checkbox" checked={upload} onChange={(e) => setUpload(e.target.checked)} data-test="watch-upload" /> Upload each
          version to the dataset's remote
        </label>
        <button type="submit" className="primary" disabled={busy || !folder.trim() || !dataset.trim()} data-test="watch-add-submit">
          {busy ? "Adding…" : "Watch folder"}
        </button>
      </div>
      <div className="field-hint">
        A version is made once nothing in the folder has changed for the quiet window (and at the latest after 10 minutes of constant
        writing); files still being written wait for the next one.
      </div>
      {error && <ErrorView error={error} remedies={{ retry: () => submit() }} compact test="watch-add-error" />}
    </form>
  );
}
