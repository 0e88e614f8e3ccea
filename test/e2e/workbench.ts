// Driving the VS Code workbench the way a user does (palette, quick open, keyboard, clicks) with
// playwright-core and Debian's Chromium, plus screenshots and browser logs per scenario.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, BrowserContext, chromium, ConsoleMessage, Frame, Locator, Page } from 'playwright-core';
import { APT_FIX, CHROMIUM } from './codeServer';
import * as S from './selectors';

export async function launchChromium(env: NodeJS.ProcessEnv): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`${APT_FIX}\``);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    env,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 100);
}

const exact = (s: string) => new RegExp(`^\\s*${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);

/** Thrown inside a `poll` callback: stop polling now and fail with this error. */
export class Abort extends Error {}

/** Polls `fn` until it returns a value other than undefined/false, or throws the last error. */
export async function poll<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (err instanceof Abort) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message.split('\n')[0]}` : '';
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${why}`);
    }
    await sleep(250);
  }
}

export class Workbench {
  private shot = 0;

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly artifacts: string,
  ) {}

  /** Opens the workbench at `url` in a fresh browser context; console output goes to `<logName>.log`. */
  static async open(browser: Browser, url: string, artifacts: string, logName: string): Promise<Workbench> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const wb = new Workbench(context, page, artifacts);
    wb.recordConsole(path.join(artifacts, `${logName}.log`));
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.locator(S.workbench.editorPart).waitFor({ state: 'visible', timeout: 90_000 });
    return wb;
  }

  recordConsole(file: string, onLine?: (m: ConsoleMessage) => void): void {
    const out = fs.createWriteStream(file, { flags: 'a' });
    this.page.on('console', (m) => {
      out.write(`[${new Date().toISOString()}] [${m.type()}] ${m.text()}\n`);
      onLine?.(m);
    });
    this.page.on('pageerror', (e) => out.write(`[${new Date().toISOString()}] [pageerror] ${e.stack ?? e}\n`));
    this.page.on('close', () => out.end());
  }

  async screenshot(name: string): Promise<string> {
    const file = path.join(this.artifacts, `${String(++this.shot).padStart(2, '0')}-${slug(name)}.png`);
    try {
      await this.page.screenshot({ path: file, timeout: 15_000 });
    } catch {
      // a page that is gone has nothing to show
    }
    return file;
  }

  /** Runs `fn`; on failure saves a screenshot named after the scenario and step, and says which step failed. */
  async step<T>(scenario: string, name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const shot = await this.screenshot(`${scenario}--FAILED--${name}`);
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(`${scenario}: step "${name}" failed: ${msg}\n(screenshot: ${shot})`, { cause: err });
    }
  }

  /** The R1 status bar item's text once it matches `re` (the daemon's state is shown there). */
  async statusItem(re: RegExp, timeoutMs = 60_000): Promise<string> {
    const item = this.page.locator(S.workbench.r1StatusItem);
    return poll(
      `the R1 status bar item to match ${re}`,
      async () => {
        const text = (await item.innerText({ timeout: 1000 })).trim();
        return re.test(text) ? text : undefined;
      },
      timeoutMs,
    );
  }

  private quickInputRow(label: string): Locator {
    return this.page
      .locator(S.workbench.quickInputRow)
      .filter({ has: this.page.locator(S.workbench.quickInputRowLabel, { hasText: exact(label) }) })
      .first();
  }

  private async closeQuickInput(): Promise<void> {
    if (await this.page.locator(S.workbench.quickInput).isVisible()) await this.page.keyboard.press('Escape');
  }

  /**
   * Back to a neutral state after whatever the last scenario left behind (a modal error dialog,
   * an open quick input), so one failure does not cascade into the next scenario.
   */
  async reset(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const dialog = this.page.locator(S.workbench.dialog);
      if (!(await dialog.isVisible())) break;
      await this.page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden', timeout: 2000 }).catch(() => undefined);
    }
    await this.closeQuickInput();
  }

  /** F1, `>title`, click the command: what a user does in the command palette. */
  async runCommand(title: string): Promise<void> {
    await this.closeQuickInput();
    await this.page.keyboard.press('F1');
    const input = this.page.locator(S.workbench.quickInputBox);
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    const row = this.quickInputRow(title);
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    await row.click();
  }

  /** Picks `label` in the quick pick a command opened (its title is `title`). */
  async pick(title: string, label: string): Promise<void> {
    const titleEl = this.page.locator(S.workbench.quickInputTitle, { hasText: title });
    const dialog = this.page.locator(S.workbench.dialog);
    await poll(
      `the "${title}" quick pick`,
      async () => {
        // A command that fails shows a modal error instead of its quick pick: say what it says.
        if (await dialog.isVisible()) {
          throw new Abort(`a dialog appeared: ${(await dialog.innerText()).trim().replace(/\s*\n\s*/g, ' / ')}`);
        }
        return titleEl.isVisible();
      },
      30_000,
    );
    await this.page.locator(S.workbench.quickInputBox).fill(label);
    const row = this.quickInputRow(label);
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    await row.click();
  }

  /** Ctrl+P and a file name: opens the file in the editor; resolves when its tab is active. */
  async quickOpen(fileName: string): Promise<void> {
    await this.closeQuickInput();
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator(S.workbench.quickInputBox);
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(fileName);
    const row = this.quickInputRow(fileName);
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    await row.click();
    await this.page
      .locator(S.workbench.activeTab, { hasText: fileName })
      .waitFor({ state: 'visible', timeout: 15_000 });
    await this.page.locator(S.editor.active).first().waitFor({ state: 'visible', timeout: 15_000 });
  }

  /** The text of the first notification toast matching `re`. */
  async toast(re: RegExp, timeoutMs: number): Promise<string> {
    const toast = this.page.locator(S.workbench.notificationToast).filter({ hasText: re }).first();
    await toast.waitFor({ state: 'visible', timeout: timeoutMs });
    return (await toast.locator(S.workbench.notificationMessage).innerText()).trim();
  }

  /**
   * The frame of an extension webview whose page has `probe` (webview content lives in
   * `iframe.webview.ready` then `#active-frame`; several webviews can be open at once).
   */
  async webview(probe: string, timeoutMs = 30_000): Promise<Frame> {
    return poll(
      `a webview showing ${probe}`,
      async () => {
        for (const outer of await this.page.$$(S.webview.outerFrame)) {
          const inner = await (await (await outer.contentFrame())?.$(S.webview.innerFrame))?.contentFrame();
          if (inner && !inner.isDetached() && (await inner.locator(probe).count()) > 0) return inner;
        }
        return undefined;
      },
      timeoutMs,
    );
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }
}
