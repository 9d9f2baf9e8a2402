// Builds the agent console (console/) into ../build/widget/console/, which
// the handoff service serves at /console/. The visitor widget (issue 4) will
// be a second entry next to it.
//
// `npm run dev` serves the console with hot reload and forwards the API and
// Socket.IO to a running handoff service (HANDOFF_URL, default :8080).

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const service = process.env.HANDOFF_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  root: here('./console'),
  base: '/console/',
  build: {
    outDir: here('../build/widget/console'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  server: {
    proxy: {
      '/api': service,
      '/socket.io': { target: service, ws: true },
    },
  },
});
