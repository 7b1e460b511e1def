import { useEffect, useState } from "react";
import { api, type WaitingDto } from "../api";
import { bytes, count } from "../lib/format";
import { waitingAction } from "../lib/offline";
import type { StartTask } from "../lib/tasks";
import { Modal } from "./Modal";

/** "Upload & finalize waiting": every version waiting to be uploaded, the catalog changes
 *  queued, and the drafts (unticked: finalizing freezes them, so it is asked each time). One
 *  button finalizes the ticked drafts, then pushes everything. */
export function WaitingDialog(props: { start: StartTask; offline: boolean; onClose: () => void; onError: (e: unknown) => void }) {
  const [w, setW] = useState<WaitingDto | null>(null);
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  useEffect(() => {
    api.waiting().then(setW, (e) => {
      props.onError(e);
      props.onClose();
    });
  }, []);
  const tick = (id: string, on: boolean) =>
    setTicked((t) => {
      const n = new Set(t);
      if (on) n.add(id);
      else n.delete(id);
      return n;
    });
  const go = () => {
    if (!w) return;
    const drafts = w.drafts.filter((d) => ticked.has(d.id)).map((d) => d.id);
    props.onClose();
    props.start({
      title: drafts.length ? `Finalize ${count(drafts.length, "draft")}, upload & send everything waiting` : "Upload & send everything waiting",
      start: (p) => api.finalizeAndPush(drafts, p),
      pausable: true,
      unit: "objects",
      describe: (r) => `${count(r.uploaded.length, "version")} uploaded (${bytes(r.sentBytes)}), ${count(r.events, "catalog change")} sent`,
    });
  };
  const nothing = !!w && w.versions.length + w.events + ticked.size === 0;
  return (
    <Modal
      title="Upload & finalize waiting"
      onClose={props.onClose}
      footer={
        <>
          <button onClick={props.onClose}>Cancel</button>
          <button className="primary" disabled={!w || nothing || props.offline} onClick={go} data-test="waiting-go">
            {w ? waitingAction(w, ticked) : "…"}
          </button>
        </>
      }
    >
      {!w && <div className="muted">Loading…</div>}
      {w && (
        <div className="waiting" data-test="waiting-list">
          {props.offline && <div className="notice">Offline: go online to send these.</div>}
          <h3>Waiting to upload</h3>
          {w.versions.length === 0 ? (
            <div className="muted">No version waits.</div>
          ) : (
            <ul>
              {w.versions.map((v) => (
                <li key={v.id} data-test={`waiting-${v.project}/${v.dataset}@${v.semver}`}>
                  {v.project}/{v.dataset}@{v.semver} <span className="muted">{v.uploadState === "uploading" ? "(interrupted; resumes)" : ""}</span>
                </li>
              ))}
            </ul>
          )}
          <div className="muted" data-test="waiting-events">
            {w.events === 0
              ? "No catalog change waits."
              : `${count(w.events, "catalog change")} to send (publish, delete, rename, move, tags, descriptions or metadata of shared versions).`}
          </div>
          <h3>Drafts</h3>
          {w.drafts.length === 0 ? (
            <div className="muted">No drafts.</div>
          ) : (
            <>
              <div className="muted">Tick those to finalize (frozen for good) and upload with the rest.</div>
              <ul className="drafts">
                {w.drafts.map((d) => (
                  <li key={d.id}>
                    <label>
                      <input
                        type="checkbox"
                        checked={ticked.has(d.id)}
                        onChange={(e) => tick(d.id, e.target.checked)}
                        data-test={`waiting-draft-${d.project}/${d.dataset}@${d.semver}`}
                      />
                      <span>{d.project}/{d.dataset}@{d.semver}</span>
                      <span className="muted">{count(d.fileCount, "file")}, {bytes(d.totalBytes)}</span>
                    </label>
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </Modal>
  );
}
