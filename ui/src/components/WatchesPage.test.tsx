import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import type { WatchDto } from "../api";
import type { TaskSpec } from "../lib/tasks";
import { WatchesPage } from "./WatchesPage";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const h = vi.hoisted(() => ({
  calls: [] as [string, Record<string, unknown> | undefined][],
  watches: [] as unknown[],
  addError: null as unknown,
  listeners: new Map<string, (e: { payload: unknown }) => void>(),
}));

vi.mock("@tauri-apps/api/core", () => ({
  Channel: class {},
  invoke: async (cmd: string, args?: Record<string, unknown>) => {
    h.calls.push([cmd, args]);
    switch (cmd) {
      case "watches":
        return h.watches;
      case "watch_add":
        if (h.addError) throw h.addError;
        return { ...watch(), folder: (args?.request as { folder: string }).folder };
      case "watch_pause":
        return watch({ paused: args?.paused as boolean });
    }
    return null;
  },
}));
vi.mock("@tauri-apps/api/event", () => ({
  listen: async (name: string, f: (e: { payload: unknown }) => void) => {
    h.listeners.set(name, f);
    return () => h.listeners.delete(name);
  },
}));
vi.mock("@tauri-apps/plugin-dialog", () => ({ open: async () => null }));

function watch(over: Partial<WatchDto> = {}): WatchDto {
  return {
    id: 3,
    folder: "/data/shots",
    dataset: "lab/shots",
    quietMs: 1000,
    maxWaitMs: 600_000,
    pollMs: null,
    upload: false,
    paused: false,
    state: "idle",
    reason: null,
    pending: 0,
    changes: null,
    kind: null,
    running: true,
    elsewhere: null,
    lastVersion: "lab/shots@1.0.0",
    newestVersion: "lab/shots@1.0.1",
    updatedAt: null,
    ...over,
  };
}

async function mount() {
  const div = document.createElement("div");
  document.body.appendChild(div);
  const started: TaskSpec<unknown>[] = [];
  const opened: string[] = [];
  const notices: string[] = [];
  const root = createRoot(div);
  roots.push(root);
  await act(async () =>
    root.render(
      <WatchesPage
        refresh={0}
        start={(s) => started.push(s as TaskSpec<unknown>)}
        onOpenVersion={(r) => opened.push(r)}
        onOpenDataset={() => {}}
        onError={(e) => {
          throw e;
        }}
        onNotice={(m) => notices.push(m)}
      />,
    ),
  );
  const q = (css: string) => div.querySelector(css) as HTMLElement | null;
  const click = (css: string) => act(async () => (q(css) as HTMLButtonElement).click());
  const type = (css: string, value: string) =>
    act(async () => {
      const input = q(css) as HTMLInputElement;
      // React listens to the native setter's input event.
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")?.set?.call(input, value);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
  return { div, q, click, type, started, opened, notices };
}

const count = (cmd: string) => h.calls.filter(([c]) => c === cmd).length;

// Every tree mounted is unmounted after its test: timers and loads it started must not run
// after the test environment is gone.
const roots: Root[] = [];
afterEach(async () => {
  await act(async () => {
    for (const r of roots.splice(0)) r.unmount();
  });
});

beforeEach(() => {
  h.calls.length = 0;
  h.watches = [watch()];
  h.addError = null;
  h.listeners.clear();
});

test("a watch shows its state, its newest version as a link, and Pause", async () => {
  const ui = await mount();
  expect(ui.q("[data-test=watch-state]")?.textContent).toBe("Idle");
  expect(ui.q("[data-test=watch-last-version]")?.textContent).toBe("lab/shots@1.0.1");
  await ui.click("[data-test=watch-last-version]");
  expect(ui.opened).toEqual(["lab/shots@1.0.1"]);
  await ui.click("[data-test=watch-pause]");
  expect(h.calls).toContainEqual(["watch_pause", { id: 3, paused: true }]);
});

test("Version now runs as a task; Remove asks first", async () => {
  const ui = await mount();
  await ui.click("[data-test=watch-version-now]");
  expect(ui.started.map((s) => s.title)).toEqual(["Version now: /data/shots"]);
  await ui.click("[data-test=watch-remove]");
  expect(count("watch_remove")).toBe(0);
  await ui.click("[data-test=watch-remove-confirm]");
  expect(h.calls).toContainEqual(["watch_remove", { id: 3 }]);
});

test("a failing watch shows the error and what to do; one run elsewhere is no error", async () => {
  h.watches = [
    watch({ id: 1, state: "error", reason: "remote 'team' is unreachable", kind: "unavailable" }),
    watch({ id: 2, folder: "/data/other", elsewhere: "'watch' (pid 42 of ann on ws1, since 2025-01-01 10:00)" }),
  ];
  const ui = await mount();
  const rows = [...ui.div.querySelectorAll("[data-test=watch-row]")];
  expect(rows[0].querySelector("[data-test=watch-error]")?.textContent).toContain("remote 'team' is unreachable");
  expect(rows[0].querySelector("[data-test=error-retry]")).not.toBeNull();
  expect(rows[1].querySelector("[data-test=watch-error]")).toBeNull();
  expect(rows[1].querySelector("[data-test=watch-state]")?.textContent).toBe("Running elsewhere");
});

test("a storm of state events redraws the page a few times, not once per event", async () => {
  const ui = await mount();
  vi.useFakeTimers();
  try {
    const before = count("watches");
    await act(async () => {
      for (let i = 0; i < 100; i++) h.listeners.get("watch://state")?.({ payload: { folder: "/data/shots", state: "pending", pending: i } });
      h.listeners.get("catalog://changed")?.({ payload: {} });
    });
    await act(async () => {
      vi.advanceTimersByTime(1000);
    });
    expect(count("watches") - before).toBeLessThanOrEqual(2);
    expect(count("watches") - before).toBeGreaterThanOrEqual(1);
  } finally {
    vi.useRealTimers();
  }
  expect(ui.q("[data-test=watch-state]")).not.toBeNull();
});

test("the Add form sends milliseconds and shows a refusal in place", async () => {
  const ui = await mount();
  await ui.type("[data-test=watch-folder]", "/data/new");
  await ui.type("[data-test=watch-dataset]", "lab/new");
  await ui.type("[data-test=watch-quiet]", "1.5");
  await ui.click("[data-test=watch-add-submit]");
  expect(h.calls).toContainEqual([
    "watch_add",
    { request: { folder: "/data/new", dataset: "lab/new", quietMs: 1500, maxWaitMs: null, pollMs: null, upload: false } },
  ]);
  expect(ui.notices).toEqual(["Watching /data/new for lab/shots."]);

  h.addError = { code: "invalid", kind: "invalid", message: "give the folder's full path, not 'data'", remote: null, remedy: null };
  await ui.type("[data-test=watch-folder]", "data");
  await ui.type("[data-test=watch-dataset]", "lab/new");
  await ui.type("[data-test=watch-quiet]", "soon");
  await ui.click("[data-test=watch-add-submit]");
  expect(ui.q("[data-test=watch-add-error]")?.textContent).toContain("quiet window in seconds");
  await ui.type("[data-test=watch-quiet]", "60");
  await ui.click("[data-test=watch-add-submit]");
  expect(ui.q("[data-test=watch-add-error]")?.textContent).toContain("full path");
});
