import { describe, expect, it } from "vitest";
import type { ApiError } from "../api";
import { fraction, MAX_DONE, MAX_WARNINGS, tasks, type TaskAction, type TaskRow } from "./tasks";

const progress = (bytes: number, totalBytes: number, warning: string | null = null) => ({
  phase: "uploading to team",
  files: 1,
  totalFiles: 10,
  bytes,
  totalBytes,
  rate: 1000,
  warning,
});

const error = (kind: ApiError["kind"], message: string): ApiError => ({ code: kind, kind, message, remote: null, remedy: null });

const start = (key: number, title = `task ${key}`, pausable = false): TaskAction => ({ type: "start", key, title, pausable, unit: "files" });

const run = (...actions: TaskAction[]) => actions.reduce(tasks, [] as TaskRow[]);

describe("tasks", () => {
  it("tracks several tasks, copies and transfers, independently", () => {
    const l = run(start(1, "Snapshot of /data"), start(2, "Upload a", true), { type: "progress", key: 2, progress: progress(50, 100) });
    expect(l.map((t) => [t.title, t.status, t.pausable])).toEqual([
      ["Snapshot of /data", "running", false],
      ["Upload a", "running", true],
    ]);
    expect(fraction(l[1])).toBe(0.5);
    expect(l[0].progress).toBeNull();
  });

  it("pauses without losing progress, ignores late progress, and resumes", () => {
    let l = run(start(1, "Upload a", true), { type: "progress", key: 1, progress: progress(30, 100) }, { type: "paused", key: 1 });
    l = tasks(l, { type: "progress", key: 1, progress: progress(40, 100) });
    expect(l[0].status).toBe("paused");
    expect(l[0].progress?.bytes).toBe(30);
    l = tasks(l, { type: "resumed", key: 1 });
    expect(l[0].status).toBe("running");
    l = tasks(l, { type: "done", key: 1, message: "sent" });
    expect(l[0]).toMatchObject({ status: "done", message: "sent" });
    expect(tasks(l, { type: "dismiss", key: 1 })).toEqual([]);
  });

  it("keeps every distinct warning, in the order they came", () => {
    const l = run(
      start(1),
      { type: "progress", key: 1, progress: progress(1, 10, "stale lock taken over") },
      { type: "progress", key: 1, progress: progress(2, 10, null) },
      { type: "progress", key: 1, progress: progress(3, 10, "skipped a.bin: unreadable") },
      { type: "progress", key: 1, progress: progress(4, 10, "stale lock taken over") },
    );
    expect(l[0].warnings).toEqual(["stale lock taken over", "skipped a.bin: unreadable"]);
    expect(l[0].progress?.bytes).toBe(4);
  });

  it("counts warnings beyond the bound instead of keeping them", () => {
    const actions: TaskAction[] = [start(1)];
    for (let i = 0; i < MAX_WARNINGS + 3; i++) actions.push({ type: "progress", key: 1, progress: progress(i, 1000, `w${i}`) });
    const [t] = run(...actions);
    expect(t.warnings.length).toBe(MAX_WARNINGS);
    expect(t.moreWarnings).toBe(3);
  });

  it("a failure keeps its error until a retry clears it; warnings stay", () => {
    let l = run(start(1), { type: "progress", key: 1, progress: progress(1, 10, "w") }, { type: "cancelling", key: 1 });
    expect(l[0].cancelling).toBe(true);
    l = tasks(l, { type: "failed", key: 1, error: error("unavailable", "remote 'team' did not answer") });
    expect(l[0]).toMatchObject({ status: "failed", cancelling: false });
    expect(l[0].error?.kind).toBe("unavailable");
    l = tasks(l, { type: "resumed", key: 1 });
    expect(l[0]).toMatchObject({ status: "running", error: null, warnings: ["w"] });
  });

  it("clears the finished ones only", () => {
    const l = run(start(1), start(2), start(3), { type: "done", key: 1, message: "ok" }, { type: "failed", key: 3, error: error("internal", "x") });
    expect(tasks(l, { type: "clear-done" }).map((t) => t.key)).toEqual([2, 3]);
  });

  it("keeps the last few finished rows, and every running or failed one", () => {
    const actions: TaskAction[] = [start(0), { type: "failed", key: 0, error: error("internal", "x") }];
    for (let k = 1; k <= MAX_DONE + 2; k++) actions.push(start(k), { type: "done", key: k, message: `r${k}` });
    actions.push(start(99));
    const l = run(...actions);
    expect(l.map((t) => t.key)).toEqual([0, ...Array.from({ length: MAX_DONE }, (_, i) => i + 3), 99]);
  });

  it("measures by files when bytes are unknown; a finished task is full", () => {
    expect(fraction({ status: "running", progress: { ...progress(0, 0), files: 5, totalFiles: 10 } })).toBe(0.5);
    expect(fraction({ status: "running", progress: null })).toBe(0);
    expect(fraction({ status: "done", progress: progress(3, 10) })).toBe(1);
  });
});
