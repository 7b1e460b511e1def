import type { WatchDto } from "../api";
import { duration, quietMs, settling, throttle, watchStatus } from "./watches";

const watch = (over: Partial<WatchDto> = {}): WatchDto => ({
  id: 1,
  folder: "/data/cats",
  dataset: "vision/cats",
  quietMs: 60_000,
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
  lastVersion: null,
  newestVersion: null,
  updatedAt: null,
  ...over,
});

test("each state reads as what the watch is doing", () => {
  expect(watchStatus(watch())).toEqual({
    label: "Idle",
    tone: "ok",
    detail: "Watching; a version follows 1 min after writing stops.",
  });
  const pending = watchStatus(
    watch({ state: "pending", pending: 40, changes: { added: 1234, modified: 3, removed: 0 }, quietMs: 5000 }),
  );
  expect(pending.label).toBe("Changes pending: 1,234 added, 3 modified");
  // Not counted yet (or a file was being written as the folder was read): no number.
  expect(watchStatus(watch({ state: "pending", pending: 40, changes: null })).label).toBe("Changes pending");
  expect(pending.detail).toBe("A version follows once writing has stopped for 5 s.");
  expect(watchStatus(watch({ state: "versioning" })).label).toBe("Versioning…");
  const waiting = watchStatus(watch({ state: "waiting", reason: "2 files still being written" }));
  expect([waiting.label, waiting.tone]).toEqual(["Waiting", "busy"]);
  expect(waiting.detail).toContain("2 files still being written");
});

test("a failure says what to do, and the folder going away is told apart", () => {
  const down = watchStatus(watch({ state: "error", reason: "remote 'team' is unreachable", kind: "unavailable" }));
  expect([down.label, down.tone]).toEqual(["Error", "error"]);
  expect(down.detail).toContain("tries again on its own");
  expect(watchStatus(watch({ state: "error", kind: "unauthorized" })).detail).toContain("Log in");
  const gone = watchStatus(watch({ state: "missing", reason: "the folder is gone" }));
  expect(gone.label).toBe("Folder missing");
  expect(gone.detail).toContain("restore the folder");
  // A failure to start shows even though nothing runs the watch.
  expect(watchStatus(watch({ state: "error", running: false })).label).toBe("Error");
});

test("a watch another process runs is no error: it says who runs it and what it is doing", () => {
  const s = watchStatus(
    watch({ elsewhere: "'watch' (pid 4242 of ann on ws1, since 2025-01-01 10:00)", state: "pending", pending: 3, changes: { added: 0, modified: 0, removed: 3 } }),
  );
  expect([s.label, s.tone]).toEqual(["Running elsewhere", "elsewhere"]);
  expect(s.detail).toBe("Run by 'watch' (pid 4242 of ann on ws1, since 2025-01-01 10:00) — changes pending: 3 removed.");
});

test("pausing and starting take a moment, and the page looks again meanwhile", () => {
  const pausing = watch({ paused: true, running: true });
  expect(watchStatus(pausing).label).toBe("Pausing…");
  expect(settling(pausing)).toBe(true);
  const paused = watch({ paused: true, running: false, state: "pending", pending: 4 });
  expect(watchStatus(paused).label).toBe("Paused");
  expect(settling(paused)).toBe(false);
  const starting = watch({ running: false });
  expect(watchStatus(starting).label).toBe("Starting…");
  expect(settling(starting)).toBe(true);
  expect(settling(watch())).toBe(false);
  expect(settling(watch({ running: false, state: "error" }))).toBe(false);
});

test("durations and the quiet window as typed", () => {
  expect(duration(1000)).toBe("1 s");
  expect(duration(90_000)).toBe("1 min 30 s");
  expect(duration(7_200_000)).toBe("2 h");
  expect(duration(500)).toBe("0.5 s");
  expect(quietMs("60")).toBe(60_000);
  expect(quietMs(" 1.5 ")).toBe(1500);
  expect(quietMs("0,5")).toBe(500);
  expect(quietMs("")).toBeNull();
  expect(quietMs("-1")).toBeNull();
  expect(quietMs("soon")).toBeNull();
});

test("a busy folder redraws the page at most once per window, and its last change is never lost", () => {
  vi.useFakeTimers();
  try {
    let calls = 0;
    const t = throttle(() => calls++, 300);
    t.call();
    expect(calls).toBe(1);
    for (let i = 0; i < 50; i++) t.call();
    expect(calls).toBe(1);
    vi.advanceTimersByTime(300);
    expect(calls).toBe(2);
    vi.advanceTimersByTime(1000);
    expect(calls).toBe(2);
    t.call();
    expect(calls).toBe(3);
    t.call();
    t.cancel();
    vi.advanceTimersByTime(1000);
    expect(calls).toBe(3);
  } finally {
    vi.useRealTimers();
  }
});
