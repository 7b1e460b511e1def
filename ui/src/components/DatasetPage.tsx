import { useEffect, useState } from "react";
import { api, asApiError, type ApiError, type VersionDto } from "../api";
import type { LocalRemedies, ReportError } from "../lib/errors";
import { bytes, count, when } from "../lib/format";
import { ErrorView } from "./ErrorView";
import { Lineage } from "./Lineage";
import { Field, Modal } from "./Modal";

export function DatasetPage(props: {
  dataset: string;
  refresh: number;
  onOpenVersion: (id: string) => void;
  onNewVersion: () => void;
  onDiff: (from: string, to: string) => void;
  onError: ReportError;
  onRenamed: (dataset: string | null) => void;
}) {
  const [versions, setVersions] = useState<VersionDto[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [dialog, setDialog] = useState<null | "rename" | "move" | "delete">(null);
  const [text, setText] = useState("");
  /** A dialog's failure, shown in the dialog, which stays open. */
  const [failure, setFailure] = useState<{ error: ApiError; remedies: LocalRemedies } | null>(null);
  const [remotes, setRemotes] = useState<{ names: string[]; fallback: string | null; own: string | null }>({
    names: [],
    fallback: null,
    own: null,
  });
  const loadRemotes = () =>
    Promise.all([api.remotes(), api.datasetRemote(props.dataset)]).then(
      ([r, own]) =>
        setRemotes({
          names: r.remotes.map((x) => x.name),
          fallback: r.remotes.find((x) => x.isDefault)?.name ?? null,
          own,
        }),
      () => {},
    );
  const load = () => api.versions(props.dataset).then(setVersions, (e) => props.onError(e, { retry: load }));
  useEffect(() => {
    load();
    loadRemotes();
  }, [props.dataset, props.refresh]);
  const open = (which: typeof dialog) => {
    setFailure(null);
    setDialog(which);
  };
  const toggle = (id: string) => {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setSelected(s);
  };
  const picked = versions.filter((v) => selected.has(v.id)).reverse(); // oldest first
  const latest = versions[0];
  const act = async (f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (e) {
      props.onError(e, { retry: () => act(f) });
    }
  };
  const actIn = async (f: () => Promise<unknown>) => {
    setFailure(null);
    try {
      await f();
    } catch (e) {
      setFailure({ error: asApiError(e), remedies: { retry: () => actIn(f) } });
    }
  };
  const failed = failure && (
    <ErrorView error={failure.error} remedies={failure.remedies} onDismiss={() => setFailure(null)} compact test="dialog-error" />
  );
  const [project, name] = [props.dataset.slice(0, props.dataset.lastIndexOf("/")), props.dataset.slice(props.dataset.lastIndexOf("/") + 1)];
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <div className="muted">{project}</div>
          <h1>{name}</h1>
          {latest && (
            <div className="muted">
              {count(versions.length, "version")} · latest {latest.semver}: {count(latest.fileCount, "file")}, {bytes(latest.totalBytes)}, {when(latest.createdAt)}
            </div>
          )}
          {remotes.names.length > 1 && (
            <label className="muted inline-select">
              Shared through{" "}
              <select
                value={remotes.own ?? ""}
                onChange={(e) =>
                  act(async () => {
                    await api.setDatasetRemote(props.dataset, e.target.value || null);
                    await loadRemotes();
                  })
                }
                data-test="dataset-remote"
              >
                <option value="">the default ({remotes.fallback})</option>
                {remotes.names.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
        <div className="actions">
          <button className="primary" onClick={props.onNewVersion} data-test="new-version">
            New version from folder
          </button>
          <button
            disabled={picked.length !== 2}
            title="Select two versions"
            onClick={() => props.onDiff(picked[0].id, picked[1].id)}
            data-test="compare"
          >
            Compare
          </button>
          <button
            disabled={picked.length < 2}
            title="Select two or more versions"
            onClick={() => act(async () => {
              const v = await api.squash(props.dataset, picked.map((p) => p.id));
              setSelected(new Set());
              props.onOpenVersion(v.id);
            })}
          >
            Squash
          </button>
          <button onClick={() => { setText(name); open("rename"); }}>Rename</button>
          <button onClick={() => { setText(project); open("move"); }}>Move</button>
          <button className="danger" onClick={() => open("delete")}>Delete</button>
        </div>
      </div>
      <h2>Lineage</h2>
      <Lineage versions={versions} selected={selected} onOpen={props.onOpenVersion} onToggle={toggle} />
      {dialog && dialog !== "delete" && (
        <Modal
          title={dialog === "rename" ? "Rename dataset" : "Move dataset"}
          onClose={() => setDialog(null)}
          footer={
            <>
              <button onClick={() => setDialog(null)}>Cancel</button>
              <button
                className="primary"
                onClick={() => actIn(async () => {
                  const to = dialog === "rename" ? await api.rename(props.dataset, text) : await api.move(props.dataset, text);
                  setDialog(null);
                  props.onRenamed(to);
                })}
              >
                {dialog === "rename" ? "Rename" : "Move"}
              </button>
            </>
          }
        >
          <Field label={dialog === "rename" ? "New name" : "Project"}>
            <input value={text} onChange={(e) => setText(e.target.value)} autoFocus />
          </Field>
          {failed}
        </Modal>
      )}
      {dialog === "delete" && (
        <Modal
          title={`Delete ${props.dataset}?`}
          onClose={() => setDialog(null)}
          footer={
            <>
              <button onClick={() => setDialog(null)}>Keep it</button>
              <button className="danger" onClick={() => actIn(async () => {
                await api.deleteDataset(props.dataset);
                setDialog(null);
                props.onRenamed(null);
              })}>
                Delete {count(versions.length, "version")}
              </button>
            </>
          }
        >
          <p>All versions leave the catalog. Their content stays in the store until you run garbage collection, so nothing is freed yet.</p>
          {failed}
        </Modal>
      )}
    </div>
  );
}
