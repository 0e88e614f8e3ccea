// One build command: esbuild bundles each entry point; `npm run typecheck` runs tsc separately.
import { build } from 'esbuild';

// tfjs stays external: the wasm backend finds its .wasm files relative to its own package,
// and the optional native backends must be resolved lazily at run time.
const external = ['@tensorflow/*', 'vscode'];

await build({
  entryPoints: { cli: 'server/src/cli/main.ts' },
  outdir: 'server/out',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external,
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
