// VS Code's own extension-test mechanism against code-server: the workbench URL carries
// `extensionDevelopmentPath` and `extensionTestsPath` (as vscode-remote URIs of this checkout);
// the remote extension host loads the extension from the checkout, runs the mocha suite
// (client/src/test/suite, built to client/out/test/suite/index.js) and reports its exit code
// through `window.codeAutomationExit`; mocha's output arrives as browser console messages.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import type { Browser, ConsoleMessage } from 'playwright-core';
import { ROOT } from './codeServer';

export const EXTENSION_TESTS = path.join(ROOT, 'client', 'out', 'test', 'suite', 'index.js');

export interface ExtensionTestResult {
  exitCode: number;
  /** The suite's console output (mocha's report), ANSI colours stripped. */
  output: string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * A console message as the extension host printed it: the workbench forwards `console.log(fmt,
 * ...args)` as `('%c INFO', 'color: …', fmt, ...args)`, so drop the styling and apply the format.
 */
async function consoleText(m: ConsoleMessage): Promise<string> {
  try {
    let args = await Promise.all(m.args().map((a) => a.jsonValue()));
    if (typeof args[0] === 'string' && args[0].startsWith('%c')) args = args.slice(2);
    return format(...args).replace(ANSI, '');
  } catch {
    return m.text().replace(ANSI, '');
  }
}

export function extensionTestsUrl(serverUrl: string, folder: string, extensionPath = ROOT): string {
  const authority = new URL(serverUrl).host;
  const remote = (p: string) => `vscode-remote://${authority}${p}`;
  const payload = [
    ['extensionDevelopmentPath', remote(extensionPath)],
    ['extensionTestsPath', remote(EXTENSION_TESTS)],
  ];
  return `${serverUrl}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

export async function runExtensionHostTests(
  browser: Browser,
  serverUrl: string,
  folder: string,
  artifacts: string,
  timeoutMs = 180_000,
): Promise<ExtensionTestResult> {
  if (!fs.existsSync(EXTENSION_TESTS)) {
    throw new Error(`${path.relative(ROOT, EXTENSION_TESTS)} is missing: run \`node scripts/build.mjs\``);
  }
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const lines: Promise<string>[] = [];
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  await page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(Number(code)));
  const log = fs.createWriteStream(path.join(artifacts, 'extension-host-console.log'));
  page.on('console', (m) => {
    log.write(`[${m.type()}] ${m.text()}\n`);
    lines.push(consoleText(m));
  });
  page.on('pageerror', (e) => log.write(`[pageerror] ${e.stack ?? e}\n`));
  try {
    await page.goto(extensionTestsUrl(serverUrl, folder), { waitUntil: 'domcontentloaded', timeout: 60_000 });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the extension-host tests did not finish within ${timeoutMs / 1000}s`)),
        timeoutMs,
      );
    });
    const exitCode = await Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
    const all = await Promise.all(lines);
    // Keep only what the suite printed (the workbench logs plenty of its own).
    const output = all
      .filter((l) =>
        /^\s*(✔|✓|\d+\)|\d+ passing|\d+ failing|\d+ pending|R1 Workbench extension|\s+at |Error|Assertion)/.test(l),
      )
      .join('\n');
    fs.writeFileSync(path.join(artifacts, 'extension-host-tests.log'), all.join('\n') + '\n');
    return { exitCode, output };
  } catch (err) {
    await page.screenshot({ path: path.join(artifacts, 'extension-host-tests--FAILED.png') }).catch(() => undefined);
    throw err;
  } finally {
    log.end();
    await context.close().catch(() => undefined);
  }
}
