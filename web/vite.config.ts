/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The console is built into web/dist, which the Go binary embeds. In
// development (`npm run dev`) the admin API is proxied to a local
// `sluice serve` (SLUICE_DEV_API, default http://127.0.0.1:8080).
const api = process.env.SLUICE_DEV_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [preact()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 400 },
  server: { proxy: { "/admin/api": api, "/v1": api } },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
