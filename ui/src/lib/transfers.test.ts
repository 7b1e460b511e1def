import { describe, expect, it } from "vitest";
import { fraction, transfers, type Transfer } from "./transfers";

const progress = (bytes: number, totalBytes: number) => ({
  phase: "uploading to team",
  files: 1,
  totalFiles: 10,
  bytes,
  totalBytes,
  rate: 1000,
  warning: null,
});

describe("transfers", () => {
  it("tracks several transfers independently", () => {
    let l: Transfer[] = [];
    l = transfers(l, { type: "start", key: 1, title: "Upload a" });
    l = transfers(l, { type: "start", key: 2, title: "Download b" });
    l = transfers(l, { type: "progress", key: 2, progress: progress(50, 100) });
    expect(l.map((t) => t.status)).toEqual(["running", "running"]);
    expect(fraction(l[1].progress)).toBe(0.5);
    expect(l[0].progress).toBeNull();
  });

  it("pauses without losing progress, ignores late progress, and resumes", () => {
    let l = transfers([], { type: "start", key: 1, title: "Upload a" });
    l = transfers(l, { type: "progress", key: 1, progress: progress(30, 100) });
    l = transfers(l, { type: "paused", key: 1 });
    l = transfers(l, { type: "progress", key: 1, progress: progress(40, 100) });
    expect(l[0].status).toBe("paused");
    expect(l[0].progress?.bytes).toBe(30);
    l = transfers(l, { type: "resumed", key: 1 });
    expect(l[0].status).toBe("running");
    l = transfers(l, { type: "done", key: 1, message: "sent" });
    l = transfers(l, { type: "dismiss", key: 1 });
    expect(l).toEqual([]);
  });

  it("measures by files when bytes are unknown", () => {
    expect(fraction({ ...progress(0, 0), files: 5, totalFiles: 10 })).toBe(0.5);
    expect(fraction(null)).toBe(0);
  });
});
