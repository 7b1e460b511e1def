import { act } from "react";
import { createRoot } from "react-dom/client";
import type { ApiError } from "../api";
import type { LocalRemedies } from "../lib/errors";
import { ErrorView, RemediesContext, type AppRemedies } from "./ErrorView";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const error = (kind: ApiError["kind"], remedy: string | null = null, remote: string | null = null): ApiError => ({
  code: kind,
  kind,
  message: `the problem (${kind})`,
  remote,
  remedy,
});

/** Renders the error with every action available, recording which ones were taken. */
async function show(e: ApiError, opts: { offline?: boolean; local?: (keyof LocalRemedies)[] } = {}) {
  const taken: string[] = [];
  const app: AppRemedies = {
    login: (remote) => taken.push(`login ${remote}`),
    push: () => taken.push("push"),
    setOffline: (offline) => taken.push(offline ? "offline" : "online"),
    offline: opts.offline ?? false,
  };
  const local: LocalRemedies = {};
  for (const k of opts.local ?? ["retry", "force", "overwrite"]) local[k] = () => taken.push(k);
  const div = document.createElement("div");
  await act(async () =>
    createRoot(div).render(
      <RemediesContext.Provider value={app}>
        <ErrorView error={e} remedies={local} onDismiss={() => taken.push("dismiss")} />
      </RemediesContext.Provider>,
    ),
  );
  const buttons = () => [...div.querySelectorAll("button")].map((b) => b.getAttribute("data-test"));
  const click = (test: string) => (div.querySelector(`[data-test=${test}]`) as HTMLButtonElement).click();
  return { div, taken, buttons, click };
}

test("the message shows inside data-test=error, with Dismiss", async () => {
  const v = await show(error("not_found"));
  expect(v.div.querySelector("[data-test=error]")?.textContent).toContain("the problem (not_found)");
  expect(v.buttons()).toEqual(["error-dismiss"]);
  v.click("error-dismiss");
  expect(v.taken).toEqual(["dismiss"]);
});

test("unauthorized offers Log in to the remote that refused", async () => {
  const v = await show(error("unauthorized", "login", "team"));
  expect(v.buttons()).toEqual(["error-login", "error-dismiss"]);
  v.click("error-login");
  expect(v.taken).toEqual(["dismiss", "login team"]);
});

test("unavailable offers Retry and Work offline", async () => {
  const v = await show(error("unavailable", null, "team"));
  expect(v.buttons()).toEqual(["error-retry", "error-offline", "error-dismiss"]);
  v.click("error-retry");
  v.click("error-offline");
  expect(v.taken).toEqual(["dismiss", "retry", "dismiss", "offline"]);
});

test("no Retry where the failed action cannot be run again, no Work offline when offline already", async () => {
  const v = await show(error("unavailable"), { offline: true, local: [] });
  expect(v.buttons()).toEqual(["error-dismiss"]);
});

test("a parent's delete offers Delete anyway where the delete came from", async () => {
  const v = await show(error("conflict", "force"));
  expect(v.buttons()).toEqual(["error-force", "error-dismiss"]);
  v.click("error-force");
  expect(v.taken).toContain("force");
  const elsewhere = await show(error("conflict", "force"), { local: ["retry"] });
  expect(elsewhere.buttons()).toEqual(["error-dismiss"]);
});

test("a non-empty folder offers Replace folder", async () => {
  const v = await show(error("invalid", "overwrite"));
  expect(v.buttons()).toEqual(["error-overwrite", "error-dismiss"]);
  expect(v.div.querySelector("[data-test=error-overwrite]")?.textContent).toBe("Replace folder");
});

test("queued work offers Upload & finalize waiting; offline mode offers Go online", async () => {
  const push = await show(error("invalid", "push"));
  expect(push.buttons()).toEqual(["error-push", "error-dismiss"]);
  push.click("error-push");
  expect(push.taken).toContain("push");
  const online = await show(error("invalid", "go_online"), { offline: true });
  expect(online.buttons()).toEqual(["error-online", "error-dismiss"]);
  online.click("error-online");
  expect(online.taken).toContain("online");
});

test("damaged content advises to verify, with no action but Dismiss", async () => {
  for (const e of [error("corrupt"), error("not_found", "verify")]) {
    const v = await show(e);
    expect(v.buttons()).toEqual(["error-dismiss"]);
    expect(v.div.textContent).toMatch(/verify/i);
  }
});

test("a conflict held by another writer says to wait, and offers nothing else", async () => {
  const v = await show(error("conflict", "unlock"));
  expect(v.buttons()).toEqual(["error-dismiss"]);
  expect(v.div.textContent).toMatch(/wait/i);
});

test("without the app's actions (outside the provider) only Dismiss remains", async () => {
  const div = document.createElement("div");
  await act(async () => createRoot(div).render(<ErrorView error={error("unauthorized", "login")} onDismiss={() => {}} />));
  expect([...div.querySelectorAll("button")].map((b) => b.getAttribute("data-test"))).toEqual(["error-dismiss"]);
});
