import { useState } from "react";
import type { ApiError, CopyRequest } from "../api";
import { ErrorView } from "./ErrorView";
import { FolderInput } from "./FolderInput";
import { Field, Modal } from "./Modal";

/** How to get a version's files: read-only from the cache, or writable into a folder, whole or
 *  a subset. Opened again with the request that failed and its `error` when the folder was not
 *  empty, to offer replacing it. */
export function CopyDialog(props: {
  label: string;
  initial?: CopyRequest;
  error?: ApiError | null;
  onCancel: () => void;
  onSubmit: (r: CopyRequest) => void;
}) {
  const first = props.initial;
  const [mutable, setMutable] = useState(first?.mutable ?? true);
  const [to, setTo] = useState(first?.to ?? "");
  const [overwrite, setOverwrite] = useState(first?.overwrite ?? false);
  const [include, setInclude] = useState(first?.include.join(" ") ?? "");
  const [exclude, setExclude] = useState(first?.exclude.join(" ") ?? "");
  const [fraction, setFraction] = useState(first?.fraction != null ? String(first.fraction) : "");
  const [seed, setSeed] = useState(String(first?.seed ?? 0));
  const list = (s: string) => s.split(/[,\s]+/).map((x) => x.trim()).filter(Boolean);
  const frac = fraction.trim() ? Number(fraction) : null;
  const fracOk = frac === null || (frac > 0 && frac <= 1);
  const ok = fracOk && (!mutable || to.trim());
  const request = (replace: boolean): CopyRequest => ({
    to: mutable || to.trim() ? to.trim() : null,
    mutable,
    overwrite: replace,
    include: list(include),
    exclude: list(exclude),
    fraction: frac,
    seed: Number(seed) || 0,
  });
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
            onClick={() => props.onSubmit(request(overwrite))}
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
      {props.error && (
        <ErrorView error={props.error} remedies={ok ? { overwrite: () => props.onSubmit(request(true)) } : {}} compact test="copy-error" />
      )}
    </Modal>
  );
}
