import { pageOf, visibleRows } from "./virtual";

test("only the rows in view are rendered, even for a million entries", () => {
  const w = visibleRows(1_000_000, 28, 28 * 500_000, 560, 10);
  expect(w.first).toBe(499_990);
  expect(w.last).toBe(500_030);
  expect(w.last - w.first).toBeLessThan(50);
  expect(w.padTop + (w.last - w.first) * 28 + w.padBottom).toBe(28_000_000);
});

test("empty lists render nothing", () => {
  expect(visibleRows(0, 28, 0, 500)).toEqual({ first: 0, last: 0, padTop: 0, padBottom: 0 });
});

test("pages align to their size", () => {
  expect(pageOf(1234, 500)).toBe(1000);
});
