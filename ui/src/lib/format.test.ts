import { bytes, changeSummary, count, eta } from "./format";

test("sizes read like the CLI", () => {
  expect(bytes(999)).toBe("999 B");
  expect(bytes(180_200_000)).toBe("180.2 MB");
});

test("change summaries name only what changed", () => {
  expect(changeSummary({ added: 3, modified: 12, removed: 0 })).toBe("3 added, 12 modified");
  expect(changeSummary({ added: 0, modified: 0, removed: 0 })).toBe("no changes");
  expect(count(1, "file")).toBe("1 file");
  expect(count(20000, "file")).toBe("20,000 files");
});

test("eta is empty when the rate is unknown", () => {
  expect(eta(0, 100, 0)).toBe("");
  expect(eta(50, 100, 10)).toBe("5s left");
});
