import { defineConfig } from "vitest/config";

// React's JSX is compiled by esbuild directly; no plugin needed.
export default defineConfig({
  esbuild: { jsx: "automatic" },
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: { target: "safari15", outDir: "dist", emptyOutDir: true },
  test: { environment: "jsdom", globals: true },
});
