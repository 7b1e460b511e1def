import { layout } from "./lineage";

test("a straight line stays in one column", () => {
  const l = layout([
    { id: "c", parents: ["b"] },
    { id: "b", parents: ["a"] },
    { id: "a", parents: [] },
  ]);
  expect(l.columns).toBe(1);
  expect(l.placed.map((p) => p.col)).toEqual([0, 0, 0]);
  expect(l.edges).toEqual([
    { from: "c", to: "b" },
    { from: "b", to: "a" },
  ]);
});

test("a merge opens a second column that joins again", () => {
  const l = layout([
    { id: "m", parents: ["a", "b"] },
    { id: "b", parents: ["a"] },
    { id: "a", parents: [] },
  ]);
  expect(l.columns).toBe(2);
  const col = Object.fromEntries(l.placed.map((p) => [p.id, p.col]));
  expect(col.m).toBe(0);
  expect(col.b).toBe(1);
  expect(col.a).toBe(0);
  expect(l.edges).toHaveLength(3);
});

test("parents outside the list (deleted) draw no edge", () => {
  const l = layout([{ id: "x", parents: ["gone"] }]);
  expect(l.edges).toEqual([]);
});
