import { useState } from "react";
import type { CopyRequest } from "../api";
import { FolderInput } from "./FolderInput";
import { Field, Modal } from "./Modal";

/** How to get a version's files: read-only from the cache, or writable into a folder, whole or
 *  a subset. */
export function CopyDialog(props: { label: string; onCancel: () => void; onSubmit: (r: CopyRequest) => void }) {
  const [mutable, setMutable] = useState(true);
  const [to, setTo] = useState("");
  const [overwrite, setOverwrite] = useState(false);
  const [include, setInclude] = useState("");
  const [exclude, setExclude] = useState("");
  const [fraction, setFraction] = useState("");
  const [seed, setSeed] = useState("0");
  const list = (s: string) => s.split(/[,\s]+/).map((x) => x.trim()).filter(Boolean);
  const frac = fraction.trim() ? Number(fraction) : null;
  const fracOk = frac === null || (frac > 0 && frac <= 1);
  const ok = fracOk && (!mutable || to.trim());
  return (
    <Modal
      title={`Get a copy of ${props.label}`}
      onClose={props.onCancel}
      footer={
        <>
          <button onClick={props.onCancel}>Cancel</button>
          <button
            className="primary"
            disabled={!ok}
            data-test="get-copy-go"
            onClick={() =>
              props.onSubmit({
                to: mutable || to.trim() ? to.trim() : null,
                mutable,
                overwrite,
                include: list(include),
                exclude: list(exclude),
                fraction: frac,
                seed: Number(seed) || 0,
              })
            }
          >
            Get copy
          </button>
        </>
      }
    >
      <div className="choice">
        <label>
          <input type="radio" name="kind" checked={mutable} onChange={() => setMutable(true)} data-test="kind-mutable" /> Writable copy in a
          folder
        </label>
        <label>
          <input type="radio" name="kind" checked={!mutable} onChange={() => setMutable(false)} data-test="kind-readonly" /> Read-only, from
          the cache (instant, shares disk space)
        </label>
      </div>
      {mutable && (
        <Field label="Folder" hint="Must be empty or new, unless you allow replacing it.">
          <FolderInput name="target" value={to} onChange={setTo} />
        </Field>
      )}
      {mutable && (
        <label className="check">
          <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} /> Replace the folder's content
        </label>
      )}
      <Field label="Only files matching" hint="Globs, e.g. train/** *.jpg (empty: all)">
        <input value={include} onChange={(e) => setInclude(e.target.value)} spellCheck={false} />
      </Field>
      <Field label="Except files matching">
        <input value={exclude} onChange={(e) => setExclude(e.target.value)} spellCheck={false} />
      </Field>
      <div className="row">
        <Field label="Fraction" hint={fracOk ? "e.g. 0.1 for a reproducible 10 %" : "between 0 and 1"}>
          <input value={fraction} onChange={(e) => setFraction(e.target.value)} placeholder="all" />
        </Field>
        <Field label="Seed">
          <input value={seed} onChange={(e) => setSeed(e.target.value)} disabled={!fraction.trim()} />
        </Field>
      </div>
    </Modal>
  );
}
