import { useEffect, useRef, useState } from "react";
import { api, asApiError, type ApiError, type ChangeDto, type CopyDto, type CopyRequest, type LocalContentDto, type VersionDetailDto } from "../api";
import type { LocalRemedies, ReportError } from "../lib/errors";
import { bytes, changeSummary, count, uploadLabel, when } from "../lib/format";
import { canFree, freeQuestion, localContentLabel } from "../lib/offline";
import type { StartTask } from "../lib/tasks";
import { CopyDialog } from "./CopyDialog";
import { ErrorView } from "./ErrorView";
import { FileBrowser } from "./FileBrowser";
import { FolderInput } from "./FolderInput";
import { InsightSection } from "./InsightSection";
import { Field, Modal } from "./Modal";

type Dialog = null | "copy" | "add" | "sync" | "remove" | "delete" | "compare" | "free";

export function VersionPage(props: {
  reference: string;
  refresh: number;
  start: StartTask;
  onOpenVersion: (id: string) => void;
  onOpenDataset: (d: string) => void;
  onDiff: (from: string, to: string) => void;
  onError: ReportError;
  onNotice: (m: string) => void;
}) {
  const [d, setD] = useState<VersionDetailDto | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [copy, setCopy] = useState<CopyDto | null>(null);
  const [folder, setFolder] = useState("");
  const [into, setInto] = useState("");
  const [patterns, setPatterns] = useState("");
  const [siblings, setSiblings] = useState<{ id: string; semver: string }[]>([]);
  const [metaKey, setMetaKey] = useState("");
  const [metaValue, setMetaValue] = useState("");
  const [newTag, setNewTag] = useState("");
  const [description, setDescription] = useState("");
  const [hasRemote, setHasRemote] = useState(false);
  /** How much of the version's content is on this disk: undefined until known, null when it
   *  could not be told. */
  const [local, setLocal] = useState<LocalContentDto | null | undefined>(undefined);
  /** A failure shown in the open dialog, with what the dialog can do about it. */
  const [failure, setFailure] = useState<{ error: ApiError; remedies?: LocalRemedies } | null>(null);
  /** The copy request that failed on a non-empty folder, to ask again in the dialog. */
  const [copyAgain, setCopyAgain] = useState<CopyRequest | null>(null);
  // A task that ends later only touches this page if it still shows the same version.
  const shown = useRef<string | null>(props.reference);
  useEffect(() => {
    shown.current = props.reference;
    setLocal(undefined);
    return () => {
      shown.current = null;
    };
  }, [props.reference]);

  // The page shows as soon as the detail is in; how much of the content is here comes after (it
  // looks up every object of the version: seconds for a million). What depends on it has its
  // own line below the header, so nothing shifts under the pointer when it arrives.
  const load = () => {
    const reference = props.reference;
    // A load that started for the version shown before (a refresh when a copy finished, say)
    // must not replace the one shown now.
    api.localContent(reference).then(
      (lc) => shown.current === reference && setLocal(lc),
      () => shown.current === reference && setLocal(null),
    );
    return api.detail(reference).then(
      (x) => {
        if (shown.current !== reference) return;
        setD(x);
        setDescription(x.version.description);
      },
      (e) => props.onError(e, { retry: load }),
    );
  };
  useEffect(() => {
    load();
    api.remotes().then((r) => setHasRemote(r.remotes.length > 0), () => setHasRemote(false));
  }, [props.reference, props.refresh]);
  // The versions Insight can compare with: parents first, then the others, newest first.
  const [others, setOthers] = useState<{ id: string; label: string }[]>([]);
  useEffect(() => {
    if (!d) return;
    const self = d.version;
    api.versions(`${self.project}/${self.dataset}`).then(
      (vs) => {
        const parents = new Set(d.parents.map((p) => p.id));
        const rest = (vs ?? []).filter((x) => x.id !== self.id).sort((a, b) => Number(parents.has(b.id)) - Number(parents.has(a.id)) || b.createdAt - a.createdAt);
        setOthers(rest.map((x) => ({ id: x.id, label: `${x.semver}${parents.has(x.id) ? " (parent)" : ""}` })));
      },
      () => setOthers([]),
    );
  }, [d]);
  useEffect(() => {
    setCopy(null);
    setDialog(null);
  }, [props.reference]);
  const open = (which: Dialog) => {
    setFailure(null);
    setCopyAgain(null);
    setDialog(which);
  };
  if (!d) return <div className="page muted">Loading…</div>;
  const v = d.version;
  const full = `${v.project}/${v.dataset}`;
  const draft = v.state === "draft";
  const act = async (f: () => Promise<unknown>) => {
    try {
      await f();
      await load();
    } catch (e) {
      props.onError(e, { retry: () => act(f) });
    }
  };
  /** Like `act`, for a dialog's action: its failure shows in the dialog, which stays open. */
  const actIn = async (f: () => Promise<unknown>, remedies: LocalRemedies = {}, reload = true) => {
    setFailure(null);
    try {
      await f();
      if (reload) await load();
    } catch (e) {
      setFailure({ error: asApiError(e), remedies: { retry: () => actIn(f, remedies, reload), ...remedies } });
    }
  };
  const changed = (c: ChangeDto) => {
    props.onNotice(`${v.semver}: ${changeSummary(c.changes)}`);
    setDialog(null);
  };
  const here = (reference: string) => shown.current === reference;
  const getCopy = (r: CopyRequest) => {
    setDialog(null);
    setCopyAgain(null);
    const reference = props.reference;
    props.start({
      title: `Copying ${full}@${v.semver}`,
      start: (p) => api.getCopy(v.id, r, p),
      // Content still on the remote arrives in the cache, so stopping keeps what arrived.
      pausable: v.uploadState === "remote",
      describe: (c) => `${c.reused ? "Already there" : "Copied"}: ${count(c.files, "file")}, ${bytes(c.bytes)} in ${c.path}`,
      onDone: (c) => {
        if (here(reference)) setCopy(c);
      },
      // A non-empty folder: ask again in the dialog, which offers to replace it.
      onFailed: (e) => {
        if (e.remedy !== "overwrite" || !here(reference)) return false;
        setFailure({ error: e });
        setCopyAgain(r);
        setDialog("copy");
        return true;
      },
      remedies: { overwrite: () => getCopy({ ...r, overwrite: true }) },
    });
  };
  // The page leaves with the version: nothing to load again.
  const deleteVersion = (force: boolean) =>
    actIn(
      async () => {
        await api.deleteVersion(v.id, force);
        props.onOpenDataset(full);
      },
      { force: () => deleteVersion(true) },
      false,
    );
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <button className="link muted" onClick={() => props.onOpenDataset(full)}>
            {full}
          </button>
          <h1>
            {v.semver} <span className={`badge ${v.state}`}>{v.state}</span>{" "}
            <span className={`badge upload-${v.uploadState}`} data-test="upload-state">
              {uploadLabel(v.uploadState)}
              {v.remote && v.uploadState !== "local" ? ` · ${v.remote}` : ""}
            </span>
          </h1>
          <div className="muted mono">{v.id}</div>
        </div>
        <div className="actions">
          <button className="primary" onClick={() => open("copy")} data-test="get-copy">
            Get a copy…
          </button>
          <button
            onClick={() => act(async () => {
              const child = await api.create(full, [v.id]);
              props.onOpenVersion(child.id);
            })}
            data-test="new-child"
          >
            New child version
          </button>
          <button
            onClick={() =>
              act(async () => {
                const vs = await api.versions(full);
                setSiblings(vs.filter((x) => x.id !== v.id).map((x) => ({ id: x.id, semver: x.semver })));
                open("compare");
              })
            }
          >
            Compare with…
          </button>
          {draft && (
            <button onClick={() => act(() => api.finalize(v.id))} data-test="finalize">
              Finalize
            </button>
          )}
          {draft && hasRemote && (
            <button
              onClick={() =>
                props.start({
                  title: `Finalize & upload ${full}@${v.semver}`,
                  start: (p) => api.finalizeUpload(v.id, p),
                  pausable: true,
                  unit: "objects",
                  describe: (x) => `${x.project}/${x.dataset}@${x.semver} is final and uploaded to ${x.remote ?? "the remote"}`,
                })
              }
              data-test="finalize-upload"
            >
              Finalize &amp; upload
            </button>
          )}
          {v.state === "final" && (
            <button onClick={() => act(() => api.publish(v.id))} data-test="publish">
              Publish
            </button>
          )}
          {hasRemote && !draft && ["local", "pending", "uploading"].includes(v.uploadState) && (
            <button
              onClick={() =>
                props.start({
                  title: `Upload ${full}@${v.semver}`,
                  start: (p) => api.upload(v.id, null, p),
                  pausable: true,
                  unit: "objects",
                  describe: (u) =>
                    `${u.uploaded.join(", ") || u.version} → ${u.remote}: ${bytes(u.sentBytes)} sent (${count(u.sentObjects, "object")}), ${count(u.skippedObjects, "object")} already there` +
                    (u.renumberedFrom ? `; ${u.renumberedFrom} was taken, now ${u.version}` : ""),
                })
              }
              data-test="upload"
            >
              {v.uploadState === "uploading" ? "Resume upload" : "Upload"}
            </button>
          )}
          <button className="danger" onClick={() => open("delete")}>
            Delete
          </button>
        </div>
      </div>

      <div className={`local-content local-${local?.local ?? "unknown"}`}>
        {local !== null && <span data-test="local-content">Local content: {local ? localContentLabel(local) : "checking…"}</span>}
        {canFree(local ?? null) && (
          <button onClick={() => open("free")} data-test="free-space">
            Free local space…
          </button>
        )}
        {(v.uploadState === "remote" || (local?.remote && local.local !== "complete")) && (
          <button
            onClick={() =>
              props.start({
                title: `Download ${full}@${v.semver}`,
                start: (p) =>
                  api.getCopy(v.id, { to: null, mutable: false, overwrite: false, include: [], exclude: [], fraction: null, seed: 0 }, p),
                pausable: true,
                unit: "objects",
                describe: (c) => `${c.version}: ${bytes(c.fetchedBytes)} fetched into the cache (${count(c.fetchedObjects, "object")})`,
              })
            }
            data-test="download"
          >
            Download
          </button>
        )}
      </div>

      {dialog === "free" && local && (
        <Modal
          title={`Free local space: ${full}@${v.semver}`}
          onClose={() => setDialog(null)}
          footer={
            <>
              <button onClick={() => setDialog(null)}>Cancel</button>
              <button
                className="primary"
                data-test="free-go"
                onClick={() => {
                  setDialog(null);
                  const reference = props.reference;
                  props.start({
                    title: `Free local space of ${full}@${v.semver}`,
                    start: (p) => api.free(v.id, p),
                    unit: "objects",
                    describe: (r) =>
                      r.freed.length
                        ? `Freed ${bytes(r.freedBytes)} (${r.freed.join(", ")}); fetched back on Get` +
                          (r.sharedKeptBytes ? `; ${bytes(r.sharedKeptBytes)} kept, shared with versions that stay here` : "")
                        : `Nothing freed: ${r.kept.join("; ")}`,
                    onDone: (r) => {
                      props.onNotice(
                        r.freed.length ? `Freed ${bytes(r.freedBytes)} of ${full}@${v.semver}; Get fetches it back` : `Nothing freed: ${r.kept.join("; ")}`,
                      );
                      if (here(reference)) load();
                    },
                  });
                }}
              >
                Free {bytes(local.localBytes)}
              </button>
            </>
          }
        >
          <p data-test="free-question">{freeQuestion(`${full}@${v.semver}`, local)}</p>
        </Modal>
      )}

      {copy && (
        <div className="notice" data-test="copy-result">
          {copy.reused ? "Already there" : "Copied"}: {count(copy.files, "file")}, {bytes(copy.bytes)} {copy.mutable ? "(writable)" : "(read-only)"} in{" "}
          <span className="mono">{copy.path}</span>{" "}
          <button className="small" onClick={() => act(() => api.reveal(copy.path))}>
            Show in file manager
          </button>
        </div>
      )}

      <div className="summary">
        <div className="stat">
          <div className="stat-value" data-test="file-total">{v.fileCount.toLocaleString("en-US")}</div>
          <div className="stat-label">files</div>
        </div>
        <div className="stat">
          <div className="stat-value">{bytes(v.totalBytes)}</div>
          <div className="stat-label">size</div>
        </div>
        {d.againstParent && (
          <div className="stat wide" data-test="parent-changes">
            <div className="stat-value changes">
              <span className="added">+{d.againstParent.added}</span> <span className="modified">~{d.againstParent.modified}</span>{" "}
              <span className="removed">−{d.againstParent.removed}</span>
            </div>
            <div className="stat-label">
              against{" "}
              <button className="link" onClick={() => props.onDiff(d.parents[0].id, v.id)} data-test="parent-diff">
                {d.parents[0].semver}
              </button>
            </div>
          </div>
        )}
        <div className="stat">
          <div className="stat-value small">{when(v.createdAt)}</div>
          <div className="stat-label">by {v.createdBy}</div>
        </div>
      </div>

      <div className="columns">
        <section>
          <h2>Tags</h2>
          <div className="tags">
            {v.tags.map((t) => (
              <span key={t} className="tag">
                #{t}
                <button className="ghost small" aria-label={`remove tag ${t}`} onClick={() => act(() => api.setTags(v.id, [`-${t}`]))}>
                  ×
                </button>
              </span>
            ))}
            <form
              onSubmit={(e) => {
                e.preventDefault();
                if (newTag.trim()) act(() => api.setTags(v.id, [`+${newTag.trim()}`])).then(() => setNewTag(""));
              }}
            >
              <input className="small-input" placeholder="add tag" value={newTag} onChange={(e) => setNewTag(e.target.value)} />
            </form>
          </div>
          <h2>Description</h2>
          {/* Any version's: they describe it, its content never changes; a shared version's
              edits travel to the team. */}
          <textarea
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            onBlur={() => description !== v.description && act(() => api.setDescription(v.id, description))}
            placeholder="What is in this version?"
            data-test="description"
          />
          {(d.parents.length > 0 || d.children.length > 0) && <h2>Lineage</h2>}
          {d.parents.map((p) => (
            <div key={p.id}>
              parent <button className="link" onClick={() => props.onOpenVersion(p.id)}>{p.semver}</button>
            </div>
          ))}
          {d.children.map((c) => (
            <div key={c.id}>
              child <button className="link" onClick={() => props.onOpenVersion(c.id)}>{c.semver}</button>
            </div>
          ))}
        </section>
        <section>
          <h2>Metadata</h2>
          <table className="meta">
            <tbody>
              {Object.entries(v.metadata).map(([k, val]) => (
                <tr key={k}>
                  <td className="mono">{k}</td>
                  <td className="mono">{JSON.stringify(val)}</td>
                  <td>
                    <button className="ghost small" aria-label={`Remove ${k}`} onClick={() => act(() => api.setMetadata(v.id, k, null))}>
                      ×
                    </button>
                  </td>
                </tr>
              ))}
              {Object.keys(v.metadata).length === 0 && (
                <tr>
                  <td className="muted">none</td>
                </tr>
              )}
            </tbody>
          </table>
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              if (metaKey.trim()) act(() => api.setMetadata(v.id, metaKey.trim(), metaValue)).then(() => { setMetaKey(""); setMetaValue(""); });
            }}
          >
            <input placeholder="key" value={metaKey} onChange={(e) => setMetaKey(e.target.value)} />
            <input placeholder="value (JSON or text)" value={metaValue} onChange={(e) => setMetaValue(e.target.value)} />
            <button type="submit">Set</button>
          </form>
        </section>
      </div>

      <InsightSection reference={v.id} others={others} refresh={props.refresh + v.fileCount} />

      <div className="section-head">
        <h2>Files</h2>
        {draft && (
          <div className="actions">
            <button onClick={() => open("add")} data-test="add-files">Add files…</button>
            <button onClick={() => open("sync")} data-test="sync-folder">Sync with folder…</button>
            <button onClick={() => open("remove")}>Remove…</button>
          </div>
        )}
      </div>
      <FileBrowser reference={v.id} refresh={props.refresh + v.fileCount} onError={props.onError} />

      {dialog === "copy" && (
        <CopyDialog
          label={`${full}@${v.semver}`}
          initial={copyAgain ?? undefined}
          error={failure?.error ?? null}
          onCancel={() => setDialog(null)}
          onSubmit={getCopy}
        />
      )}
      {(dialog === "add" || dialog === "sync") && (
        <Modal
          title={dialog === "add" ? "Add files" : "Sync with a folder"}
          onClose={() => setDialog(null)}
          footer={
            <>
              <button onClick={() => setDialog(null)}>Cancel</button>
              <button
                className="primary"
                disabled={!folder.trim()}
                data-test="folder-go"
                onClick={() => {
                  setDialog(null);
                  const [source, to] = [folder.trim(), into.trim() || null];
                  const describe = (c: ChangeDto) => `${full}@${c.version.semver}: ${changeSummary(c.changes)}`;
                  props.start(
                    dialog === "add"
                      ? { title: `Adding to ${full}@${v.semver}`, start: (p) => api.addPaths(v.id, [source], to, p), describe }
                      : { title: `Syncing ${full}@${v.semver}`, start: (p) => api.sync(v.id, source, p), describe },
                  );
                }}
              >
                {dialog === "add" ? "Add" : "Sync"}
              </button>
            </>
          }
        >
          <Field
            label={dialog === "add" ? "File or folder" : "Folder"}
            hint={dialog === "add" ? "A folder's contents are added; changed files replace their entries." : "The draft becomes equal to the folder: new files are added, changed ones replaced, missing ones removed."}
          >
            <FolderInput name="source" value={folder} onChange={setFolder} />
          </Field>
          {dialog === "add" && (
            <Field label="Into dataset folder" hint="Optional, e.g. train/cats">
              <input value={into} onChange={(e) => setInto(e.target.value)} />
            </Field>
          )}
        </Modal>
      )}
      {dialog === "remove" && (
        <Modal
          title="Remove entries"
          onClose={() => setDialog(null)}
          footer={
            <>
              <button onClick={() => setDialog(null)}>Cancel</button>
              <button
                className="danger"
                disabled={!patterns.trim()}
                onClick={() => actIn(async () => changed(await api.remove(v.id, patterns.split(/\s+/).filter(Boolean))))}
              >
                Remove
              </button>
            </>
          }
        >
          <Field label="Paths or globs" hint="e.g. val/dog/*.jpg labels.csv">
            <input value={patterns} onChange={(e) => setPatterns(e.target.value)} />
          </Field>
          {failure && <ErrorView error={failure.error} remedies={failure.remedies} onDismiss={() => setFailure(null)} compact test="dialog-error" />}
        </Modal>
      )}
      {dialog === "compare" && (
        <Modal title={`Compare ${v.semver} with…`} onClose={() => setDialog(null)}>
          {siblings.length === 0 && <p className="muted">This is the only version.</p>}
          {siblings.map((s) => (
            <button key={s.id} className="list-button" onClick={() => props.onDiff(s.id, v.id)}>
              {s.semver}
            </button>
          ))}
        </Modal>
      )}
      {dialog === "delete" && (
        <Modal
          title={`Delete ${full}@${v.semver}?`}
          onClose={() => setDialog(null)}
          footer={
            <>
              <button onClick={() => setDialog(null)}>Keep it</button>
              <button className="danger" onClick={() => deleteVersion(d.children.length > 0)} data-test="delete-version">
                Delete
              </button>
            </>
          }
        >
          {d.children.length > 0 ? (
            <p className="warning">
              This version is the parent of {d.children.map((c) => c.semver).join(", ")}. They keep all their files, but lose this link in their lineage.
            </p>
          ) : (
            <p>The version leaves the catalog; its content stays in the store until garbage collection.</p>
          )}
          {failure && <ErrorView error={failure.error} remedies={failure.remedies} onDismiss={() => setFailure(null)} compact test="dialog-error" />}
        </Modal>
      )}
    </div>
  );
}
