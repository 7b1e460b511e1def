import { open } from "@tauri-apps/plugin-dialog";

/** A path you can type or pick with the system dialog. */
export function FolderInput(props: {
  value: string;
  onChange: (v: string) => void;
  name: string;
  directory?: boolean;
  placeholder?: string;
  /** `data-test` of the text field. */
  test?: string;
}) {
  const browse = async () => {
    const picked = await open({ directory: props.directory ?? true, multiple: false });
    if (typeof picked === "string") props.onChange(picked);
  };
  return (
    <div className="folder-input">
      <input
        name={props.name}
        value={props.value}
        placeholder={props.placeholder ?? "/path/to/folder"}
        onChange={(e) => props.onChange(e.target.value)}
        spellCheck={false}
        data-test={props.test}
      />
      <button type="button" onClick={browse}>
        Browse…
      </button>
    </div>
  );
}
