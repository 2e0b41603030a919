import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` serves the UI with hot reload and forwards everything the server answers itself
// to a running Cadre (CADRE_URL, default http://localhost:5080), so cookies stay same-origin.
const server = process.env.CADRE_URL ?? "http://localhost:5080";
const proxied = ["/api", "/hooks", "/uploads", "/healthz", "/readyz", "/metrics", "/openapi"];

export default defineConfig({
  plugins: [react()],
  build: {
    // Served by Cadre.Server; the folder is generated and git-ignored.
    outDir: "../src/Cadre.Server/wwwroot",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: Object.fromEntries(proxied.map((path) => [path, { target: server, changeOrigin: false }])),
  },
});
