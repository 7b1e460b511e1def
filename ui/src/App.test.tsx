import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { App } from "./App";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

// The backend, as the window sees it: commands answered from `backend`, events sent by `emit`.
const h = vi.hoisted(() => ({
  calls: [] as [string, unknown][],
  offline: false,
  catalogFails: 0,
  catalogError: {} as Record<string, unknown>,
  listeners: new Map<string, (e: { payload: unknown }) => void>(),
}));

vi.mock("@tauri-apps/api/core", () => ({
  Channel: class {
    onmessage: unknown = null;
  },
  invoke: async (cmd: string, args?: Record<string, unknown>) => {
    h.calls.push([cmd, args]);
    switch (cmd) {
      case "catalog":
        if (h.catalogFails > 0) {
          h.catalogFails--;
          throw h.catalogError;
        }
        return { home: "/home/me/.strata", datasets: [] };
      case "remotes":
        return {
          remotes: [{ name: "team", url: "s3://b", endpoint: null, region: null, allowHttp: false, isDefault: true, loginFields: [{ key: "id", label: "Key id", secret: false }] }],
          waitingVersions: 0,
          waitingEvents: 0,
          offline: true,
        };
      case "watches":
        return [];
      case "offline_mode":
        return h.offline;
      case "set_offline_mode":
        h.offline = (args as { offline: boolean }).offline;
        return h.offline;
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
vi.mock("@tauri-apps/api/webview", () => ({
  getCurrentWebview: () => ({ onDragDropEvent: async () => () => {} }),
}));
vi.mock("@tauri-apps/plugin-dialog", () => ({ open: async () => null }));

async function mount() {
  const div = document.createElement("div");
  const root = createRoot(div);
  roots.push(root);
  await act(async () => root.render(<App />));
  const q = (css: string) => div.querySelector(css) as HTMLElement | null;
  const click = (css: string) => act(async () => (q(css) as HTMLButtonElement).click());
  return { div, q, click };
}

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
  h.offline = false;
  h.catalogFails = 0;
  h.catalogError = { code: "remote", kind: "unavailable", message: "the catalog could not be read", remote: null, remedy: null };
  h.listeners.clear();
});

test("the backend's notices stack up, each dismissable", async () => {
  const ui = await mount();
  await act(async () => h.listeners.get("strata://notice")?.({ payload: { message: "a stale lock was taken over" } }));
  await act(async () =>
    h.listeners.get("strata://notice")?.({ payload: { message: "not yet shared on remote 'team' (offline); it will be sent later" } }),
  );
  const notices = () => [...ui.div.querySelectorAll("[data-test=notice]")].map((n) => n.textContent);
  expect(notices()).toEqual(["a stale lock was taken over×", "not yet shared on remote 'team' (offline); it will be sent later×"]);
  await ui.click("[data-test=notice] button");
  expect(notices()).toEqual(["not yet shared on remote 'team' (offline); it will be sent later×"]);
});

test("news of background work shows as news, warnings as warnings", async () => {
  const ui = await mount();
  await act(async () =>
    h.listeners.get("strata://notice")?.({ payload: { message: "lab/shots@1.0.1: 3 added (watched folder)", tone: "info" } }),
  );
  await act(async () => h.listeners.get("strata://notice")?.({ payload: { message: "a stale lock was taken over", tone: "warning" } }));
  const tones = [...ui.div.querySelectorAll("[data-test=notice]")].map((n) => n.className);
  expect(tones).toEqual(["notice info", "notice warning"]);
});

test("the sidebar opens the Watched folders page", async () => {
  const ui = await mount();
  await ui.click("[data-test=open-watches]");
  expect(ui.q("[data-test=watches-page]")).not.toBeNull();
  expect(h.calls.map(([c]) => c)).toContain("watches");
});

test("the offline toggle shows the mode and switches it", async () => {
  h.offline = true;
  const ui = await mount();
  const toggle = () => ui.q("[data-test=offline-toggle]")!;
  expect(toggle().getAttribute("aria-pressed")).toBe("true");
  expect(toggle().textContent).toContain("Offline");
  await ui.click("[data-test=offline-toggle]");
  expect(h.calls).toContainEqual(["set_offline_mode", { offline: false }]);
  expect(toggle().getAttribute("aria-pressed")).toBe("false");
});

test("an unreachable backend offers Retry, which runs the failed call again, and Work offline", async () => {
  h.catalogFails = 1;
  const ui = await mount();
  expect(ui.q("[data-test=error]")?.textContent).toContain("the catalog could not be read");
  expect(ui.q("[data-test=error-offline]")).not.toBeNull();
  const before = h.calls.filter(([c]) => c === "catalog").length;
  await ui.click("[data-test=error-retry]");
  expect(h.calls.filter(([c]) => c === "catalog").length).toBe(before + 1);
  expect(ui.q("[data-test=error]")).toBeNull();
});

test("Log in opens the Remotes page at that remote's login form", async () => {
  h.catalogFails = 1;
  h.catalogError = { code: "remote", kind: "unauthorized", message: "remote 'team' refused the credentials", remote: "team", remedy: "login" };
  const ui = await mount();
  expect(ui.q("[data-test=error-retry]")).toBeNull();
  await ui.click("[data-test=error-login]");
  expect(ui.q("[data-test=remotes-page]")).not.toBeNull();
  expect(ui.q("[role=dialog]")?.getAttribute("aria-label")).toBe("Credentials for team");
});
