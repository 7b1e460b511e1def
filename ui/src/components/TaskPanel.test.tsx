import { act } from "react";
import { createRoot } from "react-dom/client";
import { TaskPanel } from "./TaskPanel";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

test("the progress panel shows files, bytes and rate, and Cancel cancels", async () => {
  const div = document.createElement("div");
  document.body.appendChild(div);
  let cancelled = 0;
  const task = {
    title: "Copying vision/cats@1.0.0",
    progress: { phase: "writing", files: 5, totalFiles: 10, bytes: 500_000, totalBytes: 1_000_000, rate: 100_000, warning: null },
    cancel: () => cancelled++,
    cancelling: false,
  };
  await act(async () => createRoot(div).render(<TaskPanel task={task} />));
  expect(div.textContent).toContain("5 / 10 files");
  expect(div.textContent).toContain("500.0 KB / 1.0 MB");
  expect(div.textContent).toContain("100.0 KB/s");
  expect(div.textContent).toContain("5s left");
  const fill = div.querySelector(".bar-fill") as HTMLElement;
  expect(fill.style.width).toBe("50%");
  (div.querySelector("[data-test=cancel-task]") as HTMLButtonElement).click();
  expect(cancelled).toBe(1);
});

test("a cancelling task cannot be cancelled twice", async () => {
  const div = document.createElement("div");
  await act(async () =>
    createRoot(div).render(<TaskPanel task={{ title: "x", progress: null, cancel: () => {}, cancelling: true }} />),
  );
  const b = div.querySelector("[data-test=cancel-task]") as HTMLButtonElement;
  expect(b.disabled).toBe(true);
  expect(b.textContent).toBe("Cancelling…");
});
