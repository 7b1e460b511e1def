import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { FileBrowser } from "./FileBrowser";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

// Each filter's listing has as many files as the filter has letters (none: 100); the listing
// of "a" answers only when the test says so, as a slow one would.
const h = vi.hoisted(() => ({
  asked: [] as string[],
  releaseA: () => {},
}));

vi.mock("@tauri-apps/api/core", () => ({
  Channel: class {},
  invoke: async (cmd: string, args?: Record<string, unknown>) => {
    if (cmd !== "version_files") return [];
    const glob = String(args?.glob ?? "");
    h.asked.push(glob);
    if (glob === "a") await new Promise<void>((r) => (h.releaseA = r));
    const total = glob === "" ? 100 : glob.length;
    return { total, offset: 0, files: [{ path: `${glob || "all"}/1.txt`, size: 1, hash: "00".repeat(32) }] };
  },
}));

let root: Root | null = null;
afterEach(async () => {
  await act(async () => root?.unmount());
  document.body.innerHTML = "";
});

const pause = (ms: number) => act(async () => new Promise((r) => setTimeout(r, ms)));

test("a version's first page is asked for at once; a listing for a filter typed over never shows", async () => {
  const div = document.createElement("div");
  document.body.appendChild(div);
  root = createRoot(div);
  await act(async () => root?.render(<FileBrowser reference="v1" refresh={0} onError={() => {}} />));
  // Well before the pause typing waits for.
  await pause(30);
  expect(h.asked).toEqual([""]);
  const count = () => div.querySelector("[data-test=file-count]")?.textContent;
  expect(count()).toBe("100 files");

  const input = div.querySelector("[data-test=file-filter]") as HTMLInputElement;
  const type = (value: string) =>
    act(async () => {
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")?.set?.call(input, value);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
  await type("a");
  await pause(250);
  expect(h.asked).toEqual(["", "a"]);
  await type("ab");
  await pause(250);
  expect(h.asked).toEqual(["", "a", "ab"]);
  expect(count()).toBe("2 files");
  // The slow answer for "a" arrives last: what shows is still "ab"'s.
  await act(async () => h.releaseA());
  await pause(10);
  expect(count()).toBe("2 files");
  expect(div.querySelector(".file-path")?.textContent).toBe("ab/1.txt");
});
