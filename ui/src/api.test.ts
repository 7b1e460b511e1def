import { asApiError } from "./api";

test("the backend's errors keep their kind, remote and remedy", () => {
  const e = { code: "remote", kind: "unauthorized", message: "credentials rejected", remote: "team", remedy: "login" };
  expect(asApiError(e)).toEqual(e);
  expect(asApiError({ code: "conflict", kind: "conflict", message: "busy" })).toEqual({
    code: "conflict",
    kind: "conflict",
    message: "busy",
    remote: null,
    remedy: null,
  });
});

test("anything else is an internal error that keeps its message", () => {
  const internal = (message: string) => ({ code: "internal", kind: "internal", message, remote: null, remedy: null });
  expect(asApiError("boom")).toEqual(internal("boom"));
  expect(asApiError(new Error("no IPC"))).toEqual(internal("no IPC"));
  expect(asApiError({ code: "io", message: "older shape" })).toEqual(internal("older shape"));
  expect(asApiError({ code: "x", kind: "weird", message: "unknown kind" })).toEqual(internal("unknown kind"));
  expect(asApiError(null)).toEqual(internal("null"));
});
