import { describe, expect, it } from "vitest";
import type { LocalContentDto } from "../bindings/LocalContentDto";
import type { VersionDto } from "../bindings/VersionDto";
import type { WaitingDto } from "../bindings/WaitingDto";
import { canFree, freeQuestion, localContentLabel, unreachableBadge, waitingAction, waitingCount } from "./offline";

const lc = (o: Partial<LocalContentDto>): LocalContentDto => ({
  local: "complete",
  files: 10,
  bytes: 2_000_000,
  localFiles: 10,
  localBytes: 2_000_000,
  remote: "team",
  ...o,
});

const version = (id: string, semver: string): VersionDto =>
  ({ id, project: "p", dataset: "d", semver, fileCount: 3, totalBytes: 300, uploadState: "local", state: "draft" }) as VersionDto;

describe("local content", () => {
  it("says where a freed version's content is and that Get brings it back", () => {
    expect(localContentLabel(lc({ local: "none", localFiles: 0, localBytes: 0 }))).toBe("On remote only ('team') — fetched on Get");
    expect(localContentLabel(lc({ local: "partial", localFiles: 4, localBytes: 500_000 }))).toContain("4 of 10 files");
    expect(localContentLabel(lc({ remote: null }))).toContain("only on this machine");
  });

  it("offers freeing only for a version on a remote with something here", () => {
    expect(canFree(lc({}))).toBe(true);
    expect(canFree(lc({ remote: null }))).toBe(false);
    expect(canFree(lc({ local: "none", localFiles: 0, localBytes: 0 }))).toBe(false);
    expect(canFree(null)).toBe(false);
    expect(freeQuestion("p/d@1.0.0", lc({}))).toContain("up to 2.0 MB");
  });
});

describe("unreachable badge", () => {
  it("shows only when online, with a remote that did not answer", () => {
    const down = { remote: "team", reachable: false, message: "connection refused" };
    expect(unreachableBadge(down, false)?.title).toBe("default remote 'team' unreachable — changes wait (connection refused)");
    expect(unreachableBadge(down, true)).toBeNull();
    expect(unreachableBadge({ remote: "team", reachable: true, message: null }, false)).toBeNull();
    expect(unreachableBadge({ remote: null, reachable: true, message: null }, false)).toBeNull();
    expect(unreachableBadge(null, false)).toBeNull();
  });
});

describe("upload & finalize waiting", () => {
  const w: WaitingDto = { versions: [version("a", "1.0.0")], events: 2, drafts: [version("b", "1.0.1"), version("c", "1.0.2")], remote: "team" };

  it("counts what waits, not the drafts", () => {
    expect(waitingCount(w)).toBe(3);
    expect(waitingCount({ ...w, versions: [], events: 0 })).toBe(0);
    expect(waitingCount({ ...w, versions: [], events: 0, remote: null })).toBeNull();
    expect(waitingCount(null)).toBeNull();
  });

  it("names what the button does for what is ticked", () => {
    expect(waitingAction(w, new Set())).toBe("Upload 1 version, send 2 catalog changes");
    expect(waitingAction(w, new Set(["b"]))).toBe("Finalize 1 draft, upload 2 versions, send 2 catalog changes");
    expect(waitingAction({ versions: [], events: 0, drafts: [], remote: "team" }, new Set())).toBe("Nothing to send");
  });
});
