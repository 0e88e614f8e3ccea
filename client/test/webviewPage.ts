// A webview page in headless Chromium, for the tests of the dashboard and rewards panel: the
// panel's script bundled by esbuild, served from a stand-in origin under the CSP that
// client/src/panels/webviewHtml.ts sets, with a stub `acquireVsCodeApi` that keeps what the page
// posts. The extension-host suite cannot run webview scripts (code-server's test page loads
// none, see client/src/test/suite/panels.test.ts), so the pages run here.
// Needs Chromium (`apt-get install chromium`, or R1_E2E_CHROMIUM), as test/e2e does; skipping
// takes R1_SKIP_BROWSER_TESTS=1.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { Browser, chromium, Page } from 'playwright-core';

export const CHROMIUM = process.env.R1_E2E_CHROMIUM ?? '/usr/bin/chromium';
export const ROOT = path.resolve(__dirname, '../..');
const ORIGIN = 'http://r1-webview.test';

/** For `describe(..., { skip })`: a missing browser fails (CI installs it); skipping is an explicit opt-out. */
export const SKIP_BROWSER = process.env.R1_SKIP_BROWSER_TESTS === '1' && 'R1_SKIP_BROWSER_TESTS=1';

// Pure colours, so a test can tell a colour scale's ends apart in the pixels.
const THEME = `:root {
  --vscode-editor-background: #000000;
  --vscode-foreground: #ffffff;
  --vscode-descriptionForeground: #888888;
  --vscode-charts-blue: #0000ff;
  --vscode-charts-red: #ff0000;
}`;

/** What webviewHtml sets: scripts by nonce only, styles only from files. */
const NONCE = 'dGVzdC1ub25jZQ==';
const CSP = `default-src 'none'; script-src 'nonce-${NONCE}'; style-src ${ORIGIN}; img-src ${ORIGIN} data:; font-src ${ORIGIN}`;

/** The webview's acquireVsCodeApi, keeping what the page posts; CSP violations are kept too. */
const STUB = `window.r1Posted = []; window.r1Violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.r1Violations.push(e.violatedDirective + ' ' + e.blockedURI));
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.r1Posted.push(m), getState: () => undefined, setState: () => {} });`;

function html(script: string, styles: string[], body: string, csp: boolean): string {
  return `<!DOCTYPE html>
<html lang="en"><head>
<meta charset="UTF-8">
${csp ? `<meta http-equiv="Content-Security-Policy" content="${CSP}">` : ''}
<link rel="stylesheet" href="${ORIGIN}/theme.css">
${styles.map((s) => `<link rel="stylesheet" href="${ORIGIN}/${s}">`).join('\n')}
</head><body>
${body}
<script nonce="${NONCE}" src="${ORIGIN}/stub.js"></script>
<script nonce="${NONCE}" src="${ORIGIN}/${script}.js"></script>
</body></html>`;
}

export interface WebviewPage {
  browser: Browser;
  page: Page;
  /** Page errors and console errors so far. */
  errors: string[];
  /** CSP violations the page reported. */
  violations(): Promise<string[]>;
}

export interface WebviewOptions {
  /** The panel's body before the scripts. */
  body?: string;
  /**
   * false: no CSP, so markup that reached the DOM would run its handlers (the injection tests
   * check that the page itself keeps data as text, not only that the CSP catches it).
   */
  csp?: boolean;
}

/**
 * Opens `client/src/webview/<script>.ts` as its panel serves it (`media/<style>` sheets) and
 * waits for its `initialized` message.
 */
export async function openWebview(
  script: string,
  styles: string[],
  { body = '<main id="app"></main>', csp = true }: WebviewOptions = {},
): Promise<WebviewPage> {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium (or R1_SKIP_BROWSER_TESTS=1)`);
  const bundle = await build({
    entryPoints: [path.join(ROOT, `client/src/webview/${script}.ts`)],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    logLevel: 'silent',
  });
  const files: Record<string, [string, string]> = {
    '/index.html': ['text/html', html(script, styles, body, csp)],
    '/stub.js': ['text/javascript', STUB],
    [`/${script}.js`]: ['text/javascript', bundle.outputFiles[0].text],
    '/theme.css': ['text/css', THEME],
  };
  for (const s of styles) files[`/${s}`] = ['text/css', fs.readFileSync(path.join(ROOT, 'media', s), 'utf8')];
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  // Anything outside the stand-in origin (an injected `<img src=x>` included) is refused here too.
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    const file = url.origin === ORIGIN ? files[url.pathname] : undefined;
    return file ? route.fulfill({ contentType: file[0], body: file[1] }) : route.fulfill({ status: 404 });
  });
  await page.goto(`${ORIGIN}/index.html`);
  await poll('the page to say initialized', () => posted(page).then((p) => p.some((m) => m.type === 'initialized')));
  const violations = () => page.evaluate(() => (window as unknown as { r1Violations: string[] }).r1Violations);
  return { browser, page, errors, violations };
}

/** What the page posted to the extension so far. */
export const posted = (page: Page) =>
  page.evaluate(() => (window as unknown as { r1Posted: { type: string }[] }).r1Posted);

export async function poll<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Posts as the extension does; one JSON string crosses to the page (Playwright's object serializer is slow for 20k records). */
export const send = (page: Page, message: unknown) =>
  page.evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(message));
