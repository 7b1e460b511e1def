import { useState } from "react";
import { open, save } from "@tauri-apps/plugin-dialog";
import { api, type CatalogDto, type ExportDto, type ImportDto } from "../api";
import { bytes } from "../lib/format";
import { describeImport, sessionFileName } from "../lib/sessions";
import type { StartTask } from "../lib/tasks";
import { Field, Modal } from "./Modal";

const FILTERS = [{ name: "Strata session", extensions: ["strata"] }];

/** Export session: datasets (every version, drafts included) into one file for another computer. */
export function ExportSession(props: {
  catalog: CatalogDto | null;
  current?: string;
  start: StartTask;
  onClose: () => void;
}) {
  const all = (props.catalog?.datasets ?? []).map((d) => `${d.project}/${d.name}`);
  const [chosen, setChosen] = useState<string[]>(props.current ? [props.current] : all.slice(0, 1));
  const [since, setSince] = useState("");
  const [path, setPath] = useState("");
  const toggle = (d: string) => setChosen((c) => (c.includes(d) ? c.filter((x) => x !== d) : [...c, d]));
  const browse = async () => {
    const picked = await save({ defaultPath: sessionFileName(chosen), filters: FILTERS });
    if (typeof picked === "string") setPath(picked);
  };
  const run = () => {
    const what = [...chosen];
    const leaveOut = since.trim() || null;
    props.start<ExportDto>({
      title: `Export session to ${path}`,
      start: (p) => api.exportSession(what, leaveOut, path, p),
      unit: "objects",
      describe: (r) => `${r.versions.length} versions (${bytes(r.bytes)}) in ${r.path}`,
    });
    props.onClose();
  };
  return (
    <Modal
      title="Export session"
      onClose={props.onClose}
      footer={
        <>
          <button onClick={props.onClose}>Cancel</button>
          <button className="primary" disabled={chosen.length === 0 || !path.trim()} onClick={run} data-test="export-run">
            Export
          </button>
        </>
      }
    >
      <p className="muted">
        Every version of the datasets you tick, drafts included, with their lineage, tags, metadata and content, in one file.
        Take it to another computer and import it there, online or not.
      </p>
      <Field label="Datasets">
        <div className="check-list" data-test="export-datasets">
          {all.map((d) => (
            <label key={d} className="check">
              <input type="checkbox" checked={chosen.includes(d)} onChange={() => toggle(d)} data-test={`export-${d}`} />
              {d}
            </label>
          ))}
          {all.length === 0 && <span className="muted">No datasets yet.</span>}
        </div>
      </Field>
      <Field label="Leave out (optional)" hint="A version the other computer has, e.g. vision/cats@1.0.0: it, its ancestors and their content stay out.">
        <input value={since} onChange={(e) => setSince(e.target.value)} placeholder="project/name@1.0.0" spellCheck={false} data-test="export-since" />
      </Field>
      <Field label="File">
        <div className="folder-input">
          <input value={path} onChange={(e) => setPath(e.target.value)} placeholder="/path/to/session.strata" spellCheck={false} data-test="export-path" />
          <button type="button" onClick={browse}>
            Choose…
          </button>
        </div>
      </Field>
    </Modal>
  );
}

/** Import session: a file made by Export session, checked part by part, all or nothing. */
export function ImportSession(props: { offline: boolean; start: StartTask; onClose: () => void; onImported?: (r: ImportDto) => void }) {
  const [path, setPath] = useState("");
  const [finalize, setFinalize] = useState(false);
  const [upload, setUpload] = useState(false);
  const browse = async () => {
    const picked = await open({ multiple: false, directory: false, filters: FILTERS });
    if (typeof picked === "string") setPath(picked);
  };
  const run = () => {
    const file = path;
    props.start<ImportDto>({
      title: `Import session ${file}`,
      start: (p) => api.importSession(file, finalize, upload, p),
      pausable: upload,
      unit: "objects",
      describe: describeImport,
      onDone: props.onImported,
    });
    props.onClose();
  };
  return (
    <Modal
      title="Import session"
      onClose={props.onClose}
      footer={
        <>
          <button onClick={props.onClose}>Cancel</button>
          <button className="primary" disabled={!path.trim()} onClick={run} data-test="import-run">
            Import
          </button>
        </>
      }
    >
      <p className="muted">
        Brings in the versions of a session file with their lineage. Every part is checked against its hash; a damaged file
        imports nothing. Importing the same file twice changes nothing.
      </p>
      <Field label="File">
        <div className="folder-input">
          <input value={path} onChange={(e) => setPath(e.target.value)} placeholder="/path/to/session.strata" spellCheck={false} data-test="import-path" />
          <button type="button" onClick={browse}>
            Choose…
          </button>
        </div>
      </Field>
      <label className="check">
        <input type="checkbox" checked={finalize} onChange={(e) => setFinalize(e.target.checked)} data-test="import-finalize" />
        Finalize its drafts
      </label>
      <label className="check">
        <input type="checkbox" checked={upload} onChange={(e) => setUpload(e.target.checked)} data-test="import-upload" />
        Upload its final versions to the team's remote
        {props.offline && <span className="muted"> (offline: they wait for “Upload &amp; finalize waiting”)</span>}
      </label>
    </Modal>
  );
}
