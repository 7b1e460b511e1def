import { useState } from "react";
import { Field, Modal } from "./Modal";
import { FolderInput } from "./FolderInput";

/** Folder → dataset name; `dataset` fixed when adding a version to an existing dataset. */
export function NewDataset(props: {
  initialFolder?: string;
  dataset?: string;
  onCancel: () => void;
  onSubmit: (dataset: string, folder: string) => void;
}) {
  const [folder, setFolder] = useState(props.initialFolder ?? "");
  const base = folder.split(/[\\/]/).filter(Boolean).pop() ?? "";
  const [name, setName] = useState(props.dataset ?? "");
  const suggested = name || (base ? `datasets/${base.replace(/[^\w.\- ]/g, "-")}` : "");
  const valid = folder.trim() && /.+\/.+/.test(suggested);
  return (
    <Modal
      title={props.dataset ? `New version of ${props.dataset}` : "New dataset from folder"}
      onClose={props.onCancel}
      footer={
        <>
          <button onClick={props.onCancel}>Cancel</button>
          <button className="primary" disabled={!valid} onClick={() => props.onSubmit(suggested, folder.trim())} data-test="create-dataset">
            {props.dataset ? "Make version" : "Create dataset"}
          </button>
        </>
      }
    >
      <Field label="Folder" hint="Every file below it becomes part of the version; nothing in it is changed.">
        <FolderInput name="folder" value={folder} onChange={setFolder} />
      </Field>
      {!props.dataset && (
        <Field label="Dataset" hint="PROJECT/NAME; projects may nest, e.g. team/vision/cats.">
          <input name="dataset" value={suggested} onChange={(e) => setName(e.target.value)} spellCheck={false} />
        </Field>
      )}
    </Modal>
  );
}
