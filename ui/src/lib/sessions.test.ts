import { expect, test } from "vitest";
import type { ImportDto, ImportedDto } from "../api";
import { describeImport, sessionFileName } from "./sessions";

const v = (over: Partial<ImportedDto>): ImportedDto => ({
  id: "a".repeat(32),
  dataset: "vision/cats",
  semver: "1.0.0",
  renumberedFrom: null,
  state: "final",
  alreadyHere: false,
  uploaded: false,
  ...over,
});

const result = (versions: ImportedDto[], finalized: string[] = []): ImportDto => ({
  versions,
  newObjects: 3,
  newBytes: 100,
  finalized,
});

test("a session file is named after its dataset and the day", () => {
  const day = new Date("2026-11-26T10:00:00Z");
  expect(sessionFileName(["vision/cats"], day)).toBe("vision-cats-2026-11-26.strata");
  expect(sessionFileName(["a/b", "c/d"], day)).toBe("2-datasets-2026-11-26.strata");
  expect(sessionFileName(["../..//"], day)).toBe("session-2026-11-26.strata");
});

test("an import says what is new, what was renumbered, finalized and uploaded", () => {
  const r = result(
    [
      v({ semver: "1.0.0", alreadyHere: true, uploaded: true }),
      v({ semver: "1.0.3", renumberedFrom: "1.0.1", uploaded: true }),
      v({ semver: "1.0.2", uploaded: true }),
    ],
    ["vision/cats@1.0.2"],
  );
  expect(describeImport(r)).toBe(
    "2 new versions; renumbered vision/cats 1.0.1 → 1.0.3; finalized vision/cats@1.0.2; 3 on the remote.",
  );
});

test("an import of a session already here says nothing is new", () => {
  expect(describeImport(result([v({ alreadyHere: true }), v({ alreadyHere: true })]))).toBe(
    "Nothing new: its 2 versions are already here.",
  );
});

test("drafts that stay drafts are counted", () => {
  expect(describeImport(result([v({}), v({ state: "draft", semver: "1.0.1" })]))).toBe(
    "2 new versions; 1 draft kept as draft.",
  );
});
