import { act } from "react";
import { createRoot } from "react-dom/client";
import type { ApiError, ProgressDto, Task } from "../api";
import type { StartTask } from "../lib/tasks";
import { TasksPanel, useTasks } from "./Tasks";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const error = (kind: ApiError["kind"], message: string, remedy: string | null = null): ApiError => ({
  code: kind,
  kind,
  message,
  remote: null,
  remedy,
});

/** One run of a fake backend operation, driven by the test. */
interface Run {
  progress: (p: Partial<ProgressDto>) => Promise<void>;
  finish: (r: unknown) => Promise<void>;
  fail: (e: ApiError) => Promise<void>;
  cancelled: number;
}

/** An operation whose every start is a new Run the test drives. */
function operation() {
  const runs: Run[] = [];
  const start = (onProgress: (p: ProgressDto) => void): Task<unknown> => {
    let resolve!: (r: unknown) => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const run: Run = {
      progress: (p) =>
        act(async () => onProgress({ phase: "writing", files: 0, totalFiles: 0, bytes: 0, totalBytes: 0, rate: 0, warning: null, ...p })),
      finish: (r) => act(async () => resolve(r)),
      fail: (e) => act(async () => reject(e)),
      cancelled: 0,
    };
    runs.push(run);
    return {
      id: runs.length,
      done,
      cancel: async () => {
        run.cancelled++;
        return true;
      },
    };
  };
  return { runs, start };
}

async function mount() {
  const div = document.createElement("div");
  const notices: string[] = [];
  const failures: ApiError[] = [];
  let settled = 0;
  let start!: StartTask;
  function Harness() {
    const tasks = useTasks(
      () => settled++,
      (m) => notices.push(m),
      (e) => failures.push(e),
    );
    start = tasks.start;
    return <TasksPanel tasks={tasks} />;
  }
  await act(async () => createRoot(div).render(<Harness />));
  const q = (css: string) => div.querySelector(css) as HTMLElement | null;
  const click = (css: string) => act(async () => (q(css) as HTMLButtonElement).click());
  return { div, notices, failures, settled: () => settled, start: (s: Parameters<StartTask>[0]) => act(async () => start(s)), q, click };
}

test("a running task shows files, bytes, rate and time left; Cancel stops it and says nothing changed", async () => {
  const ui = await mount();
  const op = operation();
  await ui.start({ title: "Adding to datasets/pets@1.0.2", start: op.start, describe: () => "" });
  await op.runs[0].progress({ files: 5, totalFiles: 10, bytes: 500_000, totalBytes: 1_000_000, rate: 100_000 });
  const row = ui.q("[data-test=transfer-running]")!;
  expect(row.textContent).toContain("5 / 10 files");
  expect(row.textContent).toContain("500.0 KB / 1.0 MB");
  expect(row.textContent).toContain("100.0 KB/s");
  expect(row.textContent).toContain("5s left");
  expect((ui.q(".bar-fill") as HTMLElement).style.width).toBe("50%");
  expect(ui.q("[data-test=pause-transfer]")).toBeNull();

  await ui.click("[data-test=cancel-task]");
  expect(op.runs[0].cancelled).toBe(1);
  const cancel = ui.q("[data-test=cancel-task]") as HTMLButtonElement;
  expect(cancel.disabled).toBe(true);
  expect(cancel.textContent).toBe("Cancelling…");

  await op.runs[0].fail(error("cancelled", "cancelled"));
  expect(ui.q("[data-test=transfers]")).toBeNull();
  expect(ui.notices).toEqual(["Cancelled; nothing was changed."]);
  expect(ui.settled()).toBe(1);
});

test("several tasks run side by side; a finished one says its result until dismissed", async () => {
  const ui = await mount();
  const [snap, up] = [operation(), operation()];
  const results: unknown[] = [];
  await ui.start({ title: "Snapshot of /data", start: snap.start, describe: (r) => `made ${r}`, onDone: (r) => results.push(r) });
  await ui.start({ title: "Upload a", start: up.start, pausable: true, unit: "objects", describe: () => "sent" });
  expect(ui.div.querySelectorAll("[data-test=transfer-running]").length).toBe(2);
  expect(ui.q("[data-test=transfers]")?.textContent).toContain("2 running");

  await snap.runs[0].finish("1.0.0");
  expect(ui.q("[data-test=transfer-done]")?.textContent).toContain("made 1.0.0");
  expect(results).toEqual(["1.0.0"]);
  expect(ui.div.querySelectorAll("[data-test=transfer-running]").length).toBe(1);

  await ui.click("[data-test=clear-tasks]");
  expect(ui.q("[data-test=transfer-done]")).toBeNull();
  expect(ui.q("[data-test=transfer-running]")?.textContent).toContain("Upload a");
});

test("a transfer pauses (its stopped run's answer is ignored) and resumes with a new run", async () => {
  const ui = await mount();
  const op = operation();
  await ui.start({ title: "Upload a", start: op.start, pausable: true, unit: "objects", describe: () => "sent" });
  await op.runs[0].progress({ files: 3, totalFiles: 10, bytes: 30, totalBytes: 100 });
  await ui.click("[data-test=pause-transfer]");
  expect(op.runs[0].cancelled).toBe(1);
  await op.runs[0].fail(error("cancelled", "cancelled"));
  const paused = ui.q("[data-test=transfer-paused]")!;
  expect(paused.textContent).toContain("3 / 10 objects");
  expect(paused.textContent).toContain("Paused; what arrived is kept");
  expect(ui.notices).toEqual([]);

  await ui.click("[data-test=resume-transfer]");
  expect(op.runs.length).toBe(2);
  await op.runs[1].finish(null);
  expect(ui.q("[data-test=transfer-done]")?.textContent).toContain("sent");
});

test("a failed task shows its error and every distinct warning; Retry runs it again", async () => {
  const ui = await mount();
  const op = operation();
  await ui.start({ title: "Syncing datasets/pets@1.0.2", start: op.start, describe: () => "synced" });
  await op.runs[0].progress({ warning: "skipped a.bin: unreadable" });
  await op.runs[0].progress({ warning: "skipped b.bin: unreadable" });
  await op.runs[0].progress({ warning: "skipped a.bin: unreadable" });
  await op.runs[0].fail(error("conflict", "datasets/pets@1.0.2 is being written by another task", "unlock"));
  const row = ui.q("[data-test=transfer-failed]")!;
  expect([...row.querySelectorAll(".task-warning")].map((w) => w.textContent)).toEqual([
    "skipped a.bin: unreadable",
    "skipped b.bin: unreadable",
  ]);
  expect(row.querySelector("[data-test=task-error]")?.textContent).toContain("being written by another task");

  await ui.click("[data-test=resume-transfer]");
  expect(ui.q("[data-test=task-error]")).toBeNull();
  await op.runs[1].finish(null);
  expect(ui.q("[data-test=transfer-done]")?.textContent).toContain("synced");
  await ui.click("[data-test=dismiss-task]");
  expect(ui.q("[data-test=transfers]")).toBeNull();
});

test("a failure its place handles leaves the list; a failed row's remedy replaces the row", async () => {
  const ui = await mount();
  const handled = operation();
  await ui.start({ title: "Copying a", start: handled.start, describe: () => "", onFailed: (e) => e.remedy === "overwrite" });
  await handled.runs[0].fail(error("invalid", "the folder is not empty", "overwrite"));
  expect(ui.q("[data-test=transfers]")).toBeNull();

  const shown = operation();
  let replaced = 0;
  await ui.start({
    title: "Copying b",
    start: shown.start,
    describe: () => "",
    onFailed: () => false,
    remedies: { overwrite: () => replaced++ },
  });
  await shown.runs[0].fail(error("invalid", "the folder is not empty", "overwrite"));
  await ui.click("[data-test=error-overwrite]");
  expect(replaced).toBe(1);
  expect(ui.q("[data-test=transfers]")).toBeNull();
});

test("a failure is told to the app (which probes the remote after an unavailable one); a cancel is not", async () => {
  const ui = await mount();
  const op = operation();
  await ui.start({ title: "Upload a", start: op.start, pausable: true, unit: "objects", describe: () => "sent" });
  await op.runs[0].fail(error("unavailable", "remote 'team' did not answer", "go_online"));
  expect(ui.failures.map((e) => e.kind)).toEqual(["unavailable"]);
  await ui.start({ title: "Upload b", start: op.start, describe: () => "sent" });
  await op.runs[1].fail(error("cancelled", "cancelled"));
  expect(ui.failures.length).toBe(1);
});
