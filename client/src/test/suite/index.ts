// Extension-host test runner (VS Code's mechanism: `extensionTestsPath` points at this module's
// build and VS Code calls `run()`). Test files are required explicitly after mocha's
// `pre-require`, so the suite works both compiled file-by-file and bundled into one file.
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: true, timeout: 60_000 });
  mocha.suite.emit('pre-require', globalThis, 'extension.test', mocha);
  /* eslint-disable @typescript-eslint/no-require-imports */
  require('./extension.test');
  require('./commands.test');
  require('./grammar.test');
  require('./review.test');
  require('./panels.test');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
