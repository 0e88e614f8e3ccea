// The extension-host mocha suite (client/src/test/suite) in a desktop VS Code, through
// @vscode/test-electron's runTests with an executable you already have (nothing is downloaded):
//
//   VSCODE_EXECUTABLE=/usr/share/code/code npx tsx test/e2e/runExtensionTests.ts
//   VSCODE_EXECUTABLE="/Applications/Visual Studio Code.app/Contents/MacOS/Electron" npx tsx test/e2e/runExtensionTests.ts
//
// It builds the bundles first, then opens a scratch workspace with a scratch profile. On machines
// without a desktop VS Code (CI here), `npm run test:e2e` runs the same suite in code-server.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { ROOT } from './codeServer';
import { EXTENSION_TESTS } from './extensionHost';

async function main(): Promise<number> {
  const exe = process.env.VSCODE_EXECUTABLE;
  if (!exe || !fs.existsSync(exe)) {
    console.error(
      'Set VSCODE_EXECUTABLE to a desktop VS Code executable (>= 1.100), e.g. /usr/share/code/code. ' +
        'Without one, `npm run test:e2e` runs this suite against code-server.',
    );
    return 2;
  }
  const build = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (build.status !== 0) return 1;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-exthost-'));
  const workspace = path.join(scratch, 'workspace');
  fs.mkdirSync(workspace);
  try {
    await runTests({
      vscodeExecutablePath: exe,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: EXTENSION_TESTS,
      launchArgs: [
        workspace,
        '--user-data-dir',
        path.join(scratch, 'user-data'),
        '--extensions-dir',
        path.join(scratch, 'extensions'),
        '--disable-extensions', // other extensions; the one under test still loads
      ],
    });
    return 0;
  } catch (err) {
    console.error(`extension-host tests failed: ${err instanceof Error ? err.message : err}`);
    return 1;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code));
