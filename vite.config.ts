import { defineConfig } from 'vite';

// SharedArrayBuffer (guest RAM, hypervisor state) only exists in a cross-origin
// isolated page. One header object serves the dev server and `vite preview`, so
// the two can never drift apart (web-platform-notes §1.2). Copy the same three
// headers into any production host config.
//   COOP same-origin + COEP require-corp: make this page cross-origin isolated.
//   CORP cross-origin: lets an isolated embedding page load us in an <iframe>.
export const isolationHeaders: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

export default defineConfig({
  // Relative asset and worker URLs, so the build works from any sub-path or embed.
  base: './',
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders, port: 4173, strictPort: true },
  // Module workers: code-splitting inside workers, and `import.meta.url` keeps
  // working in the worker chunks (Vite 8 drops it from IIFE output).
  worker: { format: 'es' },
  build: { target: 'es2022' },
});
