/** Vite config: React + Tailwind, hashed assets in dist/assets, /api proxied to the dev server. */
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { copyFile, cp, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = dirname(fileURLToPath(import.meta.url));

/** Ship Swagger UI with the build so /api/docs works offline and under the server's CSP. */
function swaggerUi(): Plugin {
  const files = ["swagger-ui-bundle.js", "swagger-ui.css"];
  return {
    name: "nubes-swagger-ui",
    apply: "build",
    async closeBundle() {
      const target = join(here, "dist", "vendor", "swagger-ui");
      await mkdir(target, { recursive: true });
      for (const file of files) {
        await copyFile(join(here, "node_modules", "swagger-ui-dist", file), join(target, file));
      }
    },
  };
}

/**
 * Ship the data pdf.js fetches on demand (character maps, the 14 standard fonts, its image decoders, colour
 * profiles) with the build, at /vendor/pdfjs/: the PDF viewer works offline and under the CSP. Its worker is a
 * hashed asset of the bundle (imported with `?url` in src/pages/documents/viewer/pdfjs.ts).
 */
function pdfjsData(): Plugin {
  const folders = ["cmaps", "standard_fonts", "wasm", "iccs"];
  return {
    name: "nubes-pdfjs-data",
    apply: "build",
    async closeBundle() {
      for (const folder of folders) {
        await cp(join(here, "node_modules", "pdfjs-dist", folder), join(here, "dist", "vendor", "pdfjs", folder), { recursive: true });
      }
    },
  };
}

// The backend (`make run`) listens here; override with NUBES_API_TARGET when it does not.
const apiTarget = process.env.NUBES_API_TARGET ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react(), tailwindcss(), swaggerUi(), pdfjsData()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    // The server's CSP forbids data: URLs in some directives; keep every asset a real file.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    port: 5173,
    proxy: {
      "/api": { target: apiTarget, changeOrigin: false, ws: true },
    },
  },
  preview: {
    port: 4173,
  },
});
