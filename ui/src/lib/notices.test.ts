import { addNotice, MAX_NOTICES, type Notice } from "./notices";

const n = (key: number, message: string): Notice => ({ key, message, tone: "info" });

test("a repeated notice moves to the end instead of showing twice", () => {
  let l = [n(1, "a"), n(2, "b")];
  l = addNotice(l, n(3, "a"));
  expect(l.map((x) => x.message)).toEqual(["b", "a"]);
});

test("the oldest notices go beyond the bound", () => {
  let l: Notice[] = [];
  for (let i = 0; i < MAX_NOTICES + 2; i++) l = addNotice(l, n(i, `m${i}`));
  expect(l.length).toBe(MAX_NOTICES);
  expect(l[0].message).toBe("m2");
});
