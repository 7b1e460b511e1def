import type { ApiError } from "../api";
import { advice, offers } from "./errors";

const e = (kind: ApiError["kind"], remedy: string | null = null, remote: string | null = null): ApiError => ({
  code: "x",
  kind,
  message: "m",
  remote,
  remedy,
});

test("what each kind and remedy offers", () => {
  expect(offers(e("unauthorized", null, "team"))).toEqual(["login"]);
  expect(offers(e("invalid", "login"))).toEqual(["login"]);
  expect(offers(e("unavailable"))).toEqual(["retry", "offline"]);
  expect(offers(e("conflict", "force"))).toEqual(["force"]);
  expect(offers(e("invalid", "overwrite"))).toEqual(["overwrite"]);
  expect(offers(e("unavailable", "push"))).toEqual(["retry", "offline", "push"]);
  expect(offers(e("invalid", "go_online"))).toEqual(["go_online"]);
  // Others: nothing but Dismiss.
  expect(offers(e("conflict", "unlock"))).toEqual([]);
  expect(offers(e("not_found"))).toEqual([]);
  expect(offers(e("corrupt", "verify"))).toEqual([]);
  expect(offers(e("internal"))).toEqual([]);
});

test("damaged content advises to verify; a remedy without a button says how to act", () => {
  expect(advice(e("corrupt"))).toMatch(/verify/i);
  expect(advice(e("not_found", "verify"))).toMatch(/verify/i);
  expect(advice(e("unauthorized", null, "team"))).toContain("'team'");
  expect(advice(e("conflict", "unlock"))).toMatch(/wait/i);
  expect(advice(e("invalid", "add_remote"))).toMatch(/add a remote/i);
  expect(advice(e("not_found"))).toBeNull();
});

test("a name that reaches only drafts says how to open one", () => {
  expect(advice(e("not_found", "include_drafts"))).toContain("project/name@X.Y.Z");
});
