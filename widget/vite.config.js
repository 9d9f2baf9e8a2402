// Builds the front-ends into ../build/widget/, which the handoff service serves:
//
//   vite build                  console/  -> build/widget/console/  (/console/, the agent console)
//   vite build --mode visitor   visitor/  -> build/widget/widget/   (/widget/, the visitor chat in an iframe)
//   vite build --mode loader    loader/   -> build/widget/widget/loader.js (the one-script-tag snippet)
//   vite build --mode demo      demo/     -> build/widget/demo/     (/demo/, a host page with the snippet)
//
// `npm run build` runs all four. `npm run dev` serves the console with hot
// reload (`vite --mode visitor` the widget) and forwards the API and Socket.IO
// to a running handoff service (HANDOFF_URL, default :8080).

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const service = process.env.HANDOFF_URL || 'http://127.0.0.1:8080';

const server = {
  proxy: {
    '/api': service,
    '/socket.io': { target: service, ws: true },
  },
};

function app(root, base, outDir, emptyOutDir = true) {
  return {
    root: here(root),
    base,
    build: { outDir: here(outDir), emptyOutDir, target: 'es2022', sourcemap: true },
    server,
  };
}

export default defineConfig(({ mode }) => {
  if (mode === 'visitor') return app('./visitor', '/widget/', '../build/widget/widget');
  if (mode === 'demo') return app('./demo', '/demo/', '../build/widget/demo');
  if (mode === 'loader') {
    // One classic script (IIFE), no chunks, no sourcemap: it is what a host page loads first.
    return {
      root: here('./loader'),
      build: {
        outDir: here('../build/widget/widget'),
        emptyOutDir: false,
        target: 'es2019',
        sourcemap: false,
        lib: { entry: here('./loader/loader.js'), name: 'NimbusChatLoader', formats: ['iife'], fileName: () => 'loader.js' },
      },
    };
  }
  return app('./console', '/console/', '../build/widget/console');
});
