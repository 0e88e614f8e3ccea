// One build command: esbuild bundles each entry point; `npm run typecheck` runs tsc separately.
import { existsSync } from 'node:fs';
import { build } from 'esbuild';

// tfjs stays external: the wasm backend finds its .wasm files relative to its own package,
// and the optional native backends must be resolved lazily at run time.
const nodeExternal = ['@tensorflow/*', 'webgpu', 'vscode', 'mocha'];

const targets = [
  // The r1 CLI, which is also the daemon (`r1 daemon`).
  { entry: 'server/src/cli/main.ts', outfile: 'server/out/cli.js', platform: 'node', banner: '#!/usr/bin/env node' },
  // Training/sampling worker thread of the daemon.
  { entry: 'server/src/daemon/worker.ts', outfile: 'server/out/worker.js', platform: 'node' },
  // The VS Code extension.
  { entry: 'client/src/extension.ts', outfile: 'client/out/extension.js', platform: 'node' },
  // Extension-host mocha suite (run inside a real VS Code by test/e2e).
  { entry: 'client/src/test/suite/index.ts', outfile: 'client/out/test/suite/index.js', platform: 'node' },
  // Webview scripts (browser).
  { entry: 'client/src/webview/dashboard.ts', outfile: 'media/out/dashboard.js', platform: 'browser' },
  { entry: 'client/src/webview/rewards.ts', outfile: 'media/out/rewards.js', platform: 'browser' },
  // Extension-host mocha suite (not packaged): run through `extensionTestsPath` by test/e2e.
  // mocha stays external; it resolves from the checkout's node_modules.
  {
    entry: 'client/src/test/suite/index.ts',
    outfile: 'client/out/test/suite/index.js',
    platform: 'node',
    external: ['mocha'],
  },
];

for (const t of targets.filter((t) => existsSync(t.entry))) {
  await build({
    entryPoints: [t.entry],
    outfile: t.outfile,
    bundle: true,
    platform: t.platform,
    target: t.platform === 'node' ? 'node20' : 'es2022',
    format: t.platform === 'node' ? 'cjs' : 'iife',
    sourcemap: true,
    external: t.platform === 'node' ? [...nodeExternal, ...(t.external ?? [])] : [],
    banner: t.banner ? { js: t.banner } : undefined,
    logLevel: 'warning',
  });
}
