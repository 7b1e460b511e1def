import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import type { CopyRequest } from "../api";
import type { TaskSpec } from "../lib/tasks";
import { VersionPage } from "./VersionPage";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const h = vi.hoisted(() => ({
  calls: [] as [string, Record<string, unknown> | undefined][],
  deleteRefusals: 0,
  local: null as null | Record<string, unknown>,
  hold: {} as Record<string, Promise<void> | undefined>,
  holdLocal: undefined as Promise<void> | undefined,
}));

const version = {
  id: "v1",
  project: "datasets",
  dataset: "pets",
  semver: "1.0.0",
  parents: [],
  state: "final",
  uploadState: "local",
  tags: [],
  description: "",
  metadata: {},
  fileCount: 3,
  totalBytes: 30,
  createdAt: 0,
  createdBy: "me",
  finalizedAt: 0,
  remote: null,
};

vi.mock("@tauri-apps/api/core", () => ({
  Channel: class {},
  invoke: async (cmd: string, args?: Record<string, unknown>) => {
    h.calls.push([cmd, args]);
    switch (cmd) {
      case "version_detail": {
        const reference = String(args?.reference ?? "v1");
        const shown = { ...version, id: reference, semver: reference === "v1" ? "1.0.0" : "1.0.1" };
        const answer = { version: shown, parents: [], againstParent: null, children: [] };
        // A test can hold one version's answer back, as a slow disk would.
        const held = h.hold[reference];
        if (held) await held;
        return answer;
      }
      case "remotes":
        return { remotes: [], waitingVersions: 0, waitingEvents: 0, offline: false };
      case "version_files":
        return { total: 0, offset: 0, files: [] };
      case "local_content":
        if (h.holdLocal) await h.holdLocal;
        return h.local;
      case "delete_version":
        if (!args?.force && h.deleteRefusals-- > 0)
          throw { code: "conflict", kind: "conflict", message: "datasets/pets@1.0.0 is the parent of team/pets@2.0.0", remote: null, remedy: "force" };
        return version;
    }
    return null;
  },
}));
vi.mock("@tauri-apps/plugin-dialog", () => ({ open: async () => null }));

async function mount(reference = "v1", refresh = 0) {
  const div = document.createElement("div");
  document.body.appendChild(div);
  const started: TaskSpec<unknown>[] = [];
  const opened: string[] = [];
  const root = createRoot(div);
  roots.push(root);
  await act(async () =>
    root.render(
      <VersionPage
        reference={reference}
        refresh={refresh}
        start={(spec) => void started.push(spec as TaskSpec<unknown>)}
        onOpenVersion={() => {}}
        onOpenDataset={(d) => opened.push(d)}
        onDiff={() => {}}
        onError={() => {}}
        onNotice={() => {}}
      />,
    ),
  );
  const q = (css: string) => div.querySelector(css) as HTMLElement | null;
  const click = (css: string) => act(async () => (q(css) as HTMLButtonElement).click());
  const show = (ref: string, again: number) =>
    act(async () =>
      root.render(
        <VersionPage
          reference={ref}
          refresh={again}
          start={(spec) => void started.push(spec as TaskSpec<unknown>)}
          onOpenVersion={() => {}}
          onOpenDataset={(d) => opened.push(d)}
          onDiff={() => {}}
          onError={() => {}}
          onNotice={() => {}}
        />,
      ),
    );
  return { div, q, click, started, opened, show };
}

// Every page mounted is unmounted after its test: work it scheduled (a file page, the label
// statistics) must not run after the test environment is gone.
const roots: Root[] = [];
afterEach(async () => {
  await act(async () => {
    for (const r of roots.splice(0)) r.unmount();
  });
  document.body.innerHTML = "";
});

beforeEach(() => {
  h.hold = {};
  h.holdLocal = undefined;
  h.calls.length = 0;
  h.deleteRefusals = 0;
  h.local = null;
});

test("a delete refused because of children offers Delete anyway in the delete dialog", async () => {
  h.deleteRefusals = 1;
  const ui = await mount();
  await ui.click("button.danger");
  await ui.click("[data-test=delete-version]");
  expect(ui.q("[data-test=dialog-error]")?.textContent).toContain("is the parent of team/pets@2.0.0");
  expect(ui.opened).toEqual([]);
  await ui.click("[data-test=error-force]");
  expect(h.calls.filter(([c]) => c === "delete_version").map(([, a]) => a?.force)).toEqual([false, true]);
  expect(ui.opened).toEqual(["datasets/pets"]);
});

test("a copy into a non-empty folder comes back to the dialog, which offers Replace folder", async () => {
  const ui = await mount();
  await ui.click("[data-test=get-copy]");
  await ui.click("[data-test=kind-readonly]");
  await ui.click("[data-test=get-copy-go]");
  expect(ui.started.map((s) => s.title)).toEqual(["Copying datasets/pets@1.0.0"]);
  expect(ui.q("[role=dialog]")).toBeNull();

  const handled = await act(async () =>
    ui.started[0].onFailed?.({ code: "invalid", kind: "invalid", message: "the folder /tmp/x is not empty", remote: null, remedy: "overwrite" }),
  );
  expect(handled).toBe(true);
  expect(ui.q("[data-test=copy-error]")?.textContent).toContain("is not empty");
  await ui.click("[data-test=error-overwrite]");
  expect(ui.started.length).toBe(2);
  expect(ui.q("[role=dialog]")).toBeNull();
  // The same request again, now replacing the folder.
  const request = (s: TaskSpec<unknown>) => {
    s.start(() => {});
    return h.calls.filter(([c]) => c === "get_copy").pop()?.[1]?.request as CopyRequest;
  };
  expect(request(ui.started[0])).toMatchObject({ mutable: false, overwrite: false });
  expect(request(ui.started[1])).toMatchObject({ mutable: false, overwrite: true });
});

test("a version on a remote offers Free local space, says how much, and runs it as a task", async () => {
  h.local = { local: "complete", files: 3, bytes: 3_000_000, localFiles: 3, localBytes: 3_000_000, remote: "team" };
  const ui = await mount();
  expect(ui.q("[data-test=local-content]")?.textContent).toBe("Local content: All here (3.0 MB); also on 'team'");
  await ui.click("[data-test=free-space]");
  expect(ui.q("[data-test=free-question]")?.textContent).toContain("(up to 3.0 MB) after checking that 'team' holds all of it");
  expect(ui.q("[data-test=free-go]")?.textContent).toBe("Free 3.0 MB");
  await ui.click("[data-test=free-go]");
  expect(ui.started.map((s) => s.title)).toEqual(["Free local space of datasets/pets@1.0.0"]);
  ui.started[0].start(() => {});
  expect(h.calls.filter(([c]) => c === "free_version").map(([, a]) => a?.reference)).toEqual(["v1"]);
});

test("a version only here is not offered Free local space; a freed one says Get fetches it", async () => {
  h.local = { local: "complete", files: 3, bytes: 30, localFiles: 3, localBytes: 30, remote: null };
  let ui = await mount();
  expect(ui.q("[data-test=free-space]")).toBeNull();
  h.local = { local: "none", files: 3, bytes: 30, localFiles: 0, localBytes: 0, remote: "team" };
  ui = await mount();
  expect(ui.q("[data-test=free-space]")).toBeNull();
  expect(ui.q("[data-test=local-content]")?.textContent).toBe("Local content: On remote only ('team') — fetched on Get");
});

test("a slow reload of the version shown before never replaces the one shown now", async () => {
  const ui = await mount("v1", 0);
  expect(ui.q("h1")?.textContent).toContain("1.0.0");
  // A refresh of v1 (a copy finished) is slow to answer; meanwhile the page moves to v2.
  let release = () => {};
  h.hold.v1 = new Promise<void>((r) => (release = r));
  await ui.show("v1", 1);
  await ui.show("v2", 1);
  expect(ui.q("h1")?.textContent).toContain("1.0.1");
  await act(async () => release());
  expect(ui.q("h1")?.textContent).toContain("1.0.1");
});

test("a version shows, and its files are asked for, while its local content is still counted", async () => {
  h.local = { local: "complete", files: 3, bytes: 3_000_000, localFiles: 3, localBytes: 3_000_000, remote: "team" };
  let release = () => {};
  h.holdLocal = new Promise<void>((r) => (release = r));
  const ui = await mount();
  await act(async () => new Promise((r) => setTimeout(r, 20)));
  expect(ui.q("h1")?.textContent).toContain("1.0.0");
  expect(h.calls.filter(([c]) => c === "version_files").length).toBe(1);
  expect(ui.q("[data-test=local-content]")?.textContent).toBe("Local content: checking…");
  expect(ui.q("[data-test=free-space]")).toBeNull();
  await act(async () => release());
  expect(ui.q("[data-test=local-content]")?.textContent).toBe("Local content: All here (3.0 MB); also on 'team'");
  expect(ui.q("[data-test=free-space]")).not.toBeNull();
});
