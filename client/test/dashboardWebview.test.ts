// The Training Dashboard's page in headless Chromium, fed the messages the extension sends: with
// MoE metrics it shows one expert-load heat map per layer (right experts, steps, downsampled
// columns, colours, hover text) and the "MoE routing" chart; a dense run shows neither; no line
// chart plots an array-valued key. The extension-host suite cannot do this (code-server's test
// page loads no webview scripts, see client/src/test/suite/panels.test.ts), so the page runs
// here: dashboard.ts bundled by esbuild, served from a stand-in origin under the webview's CSP.
// Skipped without Chromium (`apt-get install chromium`, or R1_E2E_CHROMIUM), as test/e2e needs it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { Browser, chromium, Page } from 'playwright-core';
import type { MetricRecord } from '../../server/src/protocol/messages';

const CHROMIUM = process.env.R1_E2E_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');
const ORIGIN = 'http://r1-webview.test';

// Pure colours, so the test can tell the scale's ends apart in the pixels.
const THEME = `:root {
  --vscode-editor-background: #000000;
  --vscode-foreground: #ffffff;
  --vscode-descriptionForeground: #888888;
  --vscode-charts-blue: #0000ff;
  --vscode-charts-red: #ff0000;
}`;

/** What webviewHtml (client/src/panels/webviewHtml.ts) sets: scripts by nonce only, styles only from files. */
const NONCE = 'dGVzdC1ub25jZQ==';
const CSP = `default-src 'none'; script-src 'nonce-${NONCE}'; style-src ${ORIGIN}; img-src ${ORIGIN} data:; font-src ${ORIGIN}`;
const HTML = `<!DOCTYPE html>
<html lang="en"><head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<link rel="stylesheet" href="${ORIGIN}/theme.css">
<link rel="stylesheet" href="${ORIGIN}/webview.css">
<link rel="stylesheet" href="${ORIGIN}/dashboard.css">
</head><body>
<main id="app"></main>
<script nonce="${NONCE}" src="${ORIGIN}/stub.js"></script>
<script nonce="${NONCE}" src="${ORIGIN}/dashboard.js"></script>
</body></html>`;

/** The webview's acquireVsCodeApi, keeping what the page posts; CSP violations are kept too. */
const STUB = `window.r1Posted = []; window.r1Violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.r1Violations.push(e.violatedDirective + ' ' + e.blockedURI));
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.r1Posted.push(m), getState: () => undefined, setState: () => {} });`;

/** `steps` logged steps of a MoE run with `layers` layers of `experts` routed experts; expert 0 takes 70%. */
function moeRecords(stage: string, steps: number, layers: number, experts: number, every = 5): MetricRecord[] {
  const rest = 0.3 / (experts - 1);
  const load = [0.7, ...Array<number>(experts - 1).fill(rest)];
  return Array.from({ length: steps }, (_, i) => {
    const r: MetricRecord = {
      stage,
      step: (i + 1) * every,
      loss: 5 - i * 0.01,
      'moe/router_entropy': 1.2,
      'moe/dropped_ratio': 0.01,
      'moe/max_load_ratio': 0.7 * experts,
      'moe/balance_loss': 1,
    };
    for (let l = 0; l < layers; l++) {
      r[`moe/load/layer${l}`] = load;
      r[`moe/bias/layer${l}`] = Array<number>(experts).fill(0);
    }
    return r;
  });
}

interface HeatmapState {
  figureEmpty: boolean;
  layers: number;
  canvases: { layer: number; experts: number; steps: number; columns: number; width: number }[];
}

const heatmaps = (page: Page) =>
  page.evaluate((): HeatmapState => {
    const fig = document.getElementById('moe-load')!;
    return {
      figureEmpty: fig.classList.contains('empty'),
      layers: Number(fig.dataset.layers),
      canvases: Array.from(fig.querySelectorAll<HTMLCanvasElement>('canvas[data-layer]')).map((c) => ({
        layer: Number(c.dataset.layer),
        experts: Number(c.dataset.experts),
        steps: Number(c.dataset.steps),
        columns: Number(c.dataset.columns ?? 0),
        width: c.getBoundingClientRect().width,
      })),
    };
  });

const chart = (page: Page, id: string) =>
  page.evaluate((id) => {
    const fig = document.getElementById(`chart-${id}`)!;
    const c = fig.querySelector('canvas')!;
    return {
      empty: fig.classList.contains('empty'),
      series: c.dataset.series ?? '',
      points: Number(c.dataset.points ?? 0),
    };
  }, id);

async function poll<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Posts as the extension does; one JSON string crosses to the page (Playwright's object serializer is slow for 20k records). */
const send = (page: Page, message: unknown) =>
  page.evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(message));
const reset = (records: MetricRecord[]) => ({ type: 'reset', runDir: '/runs/x', runName: 'x', stages: [], records });

describe(
  'Training Dashboard page (headless Chromium)',
  // A missing browser fails (CI installs it); skipping takes an explicit opt-out.
  { skip: process.env.R1_SKIP_BROWSER_TESTS === '1' && 'R1_SKIP_BROWSER_TESTS=1' },
  () => {
    let browser: Browser;
    let page: Page;
    const errors: string[] = [];

    before(async () => {
      assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium (or R1_SKIP_BROWSER_TESTS=1)`);
      const bundle = await build({
        entryPoints: [path.join(ROOT, 'client/src/webview/dashboard.ts')],
        bundle: true,
        write: false,
        platform: 'browser',
        format: 'iife',
        target: 'es2022',
        logLevel: 'silent',
      });
      const files: Record<string, [string, string]> = {
        '/index.html': ['text/html', HTML],
        '/stub.js': ['text/javascript', STUB],
        '/dashboard.js': ['text/javascript', bundle.outputFiles[0].text],
        '/theme.css': ['text/css', THEME],
        '/webview.css': ['text/css', fs.readFileSync(path.join(ROOT, 'media/webview.css'), 'utf8')],
        '/dashboard.css': ['text/css', fs.readFileSync(path.join(ROOT, 'media/dashboard.css'), 'utf8')],
      };
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
      });
      page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.route(`${ORIGIN}/**`, (route) => {
        const file = files[new URL(route.request().url()).pathname];
        return file ? route.fulfill({ contentType: file[0], body: file[1] }) : route.fulfill({ status: 404 });
      });
      await page.goto(`${ORIGIN}/index.html`);
      await poll('the page to say initialized', () =>
        page.evaluate(() =>
          (window as unknown as { r1Posted: { type: string }[] }).r1Posted.some((m) => m.type === 'initialized'),
        ),
      );
    });

    after(async () => {
      await browser?.close();
    });

    it('draws one heat map per MoE layer with its experts and steps, and a MoE routing chart', async () => {
      await send(page, reset(moeRecords('pretrain', 20, 2, 6)));
      const s = await poll('two drawn heat maps', async () => {
        const h = await heatmaps(page);
        return h.canvases.length === 2 && h.canvases.every((c) => c.columns > 0) && h;
      });
      assert.equal(s.figureEmpty, false);
      assert.equal(s.layers, 2);
      assert.deepEqual(
        s.canvases.map(({ layer, experts, steps }) => ({ layer, experts, steps })),
        [
          { layer: 0, experts: 6, steps: 20 },
          { layer: 1, experts: 6, steps: 20 },
        ],
      );
      for (const c of s.canvases) assert.ok(c.columns <= c.width, `${c.columns} columns fit ${c.width}px`);
      const moe = await chart(page, 'moe');
      assert.equal(moe.empty, false);
      assert.deepEqual(moe.series.split(' ').sort(), ['moe/dropped_ratio', 'moe/max_load_ratio', 'moe/router_entropy']);
      assert.equal(moe.points, 60);
    });

    it('colours the overloaded expert red and the starved ones blue, one row each', async () => {
      // Expert 0 at 0.7 × 6 = 4.2× (saturated red); the others at 0.06 × 6 = 0.36× (mostly blue).
      const counts = await page.evaluate(() => {
        const c = document.querySelector<HTMLCanvasElement>('#moe-load canvas[data-layer="0"]')!;
        const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
        let red = 0;
        let blue = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i] > 200 && data[i + 1] < 40 && data[i + 2] < 40) red++;
          if (data[i + 2] > 120 && data[i] < 40 && data[i + 1] < 40) blue++;
        }
        return { red, blue };
      });
      assert.ok(counts.red > 1000, `red cells drawn (${counts.red} px)`);
      // Five starved rows for one overloaded row (less the boundary lines and labels drawn over them).
      const ratio = counts.blue / counts.red;
      assert.ok(ratio > 4 && ratio < 6, `blue:red ≈ 5 (${ratio.toFixed(2)})`);
    });

    it('says step, expert and share on hover', async () => {
      const canvas = page.locator('#moe-load canvas[data-layer="1"]');
      await canvas.scrollIntoViewIfNeeded();
      const box = (await canvas.boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.1);
      const title = (await canvas.getAttribute('title')) ?? '';
      assert.match(
        title,
        /^pretrain step \d+ · layer 1, expert 0: 70\.0% of the routed assignments \(4\.20× uniform\)$/,
      );
    });

    it('keeps array-valued keys out of every line chart', async () => {
      const ids = await page.evaluate(() =>
        Array.from(document.querySelectorAll('figure[id^="chart-"]')).map((f) => f.id.slice(6)),
      );
      for (const id of ids) {
        const { series } = await chart(page, id);
        assert.doesNotMatch(series, /moe\/(load|bias)\//, `chart ${id}: ${series}`);
      }
      assert.equal((await chart(page, 'loss')).series, 'loss');
    });

    it('adds live steps and a later stage to the heat maps', async () => {
      await send(page, { type: 'metrics', records: moeRecords('cold-start', 4, 2, 6) });
      const s = await poll('24 steps per layer', async () => {
        const h = await heatmaps(page);
        return h.canvases.every((c) => c.steps === 24) && h;
      });
      assert.equal(s.layers, 2);
    });

    it('downsamples a long run to the drawn width', async () => {
      await send(page, reset(moeRecords('pretrain', 20_000, 1, 24, 1)));
      const t0 = Date.now(); // the page has the message: what follows is the dashboard's own work
      const s = await poll('the long run drawn', async () => {
        const h = await heatmaps(page);
        return h.canvases.length === 1 && h.canvases[0].steps === 20_000 && h.canvases[0].columns > 0 && h;
      });
      const ms = Date.now() - t0;
      const [c] = s.canvases;
      assert.equal(c.experts, 24);
      assert.ok(c.columns <= c.width && c.columns > c.width / 2, `${c.columns} columns for ${c.width}px`);
      // About 0.5 s on a shared 2-core machine, most of it the line charts' 20,000 points; generous for CI.
      assert.ok(ms < 5000, `drawn in ${ms} ms`);
    });

    it('shows no heat map (and no MoE chart) for a dense run', async () => {
      const dense = moeRecords('pretrain', 10, 0, 2).map((r) => ({ stage: r.stage, step: r.step, loss: r.loss }));
      await send(page, reset(dense));
      const s = await poll('the heat maps to go', async () => {
        const h = await heatmaps(page);
        return h.figureEmpty && h;
      });
      assert.equal(s.layers, 0);
      assert.equal(s.canvases.length, 0);
      assert.equal((await chart(page, 'moe')).empty, true);
      assert.equal((await chart(page, 'loss')).points, 10);
    });

    it('ran under the webview CSP without violations or page errors', async () => {
      const violations = await page.evaluate(() => (window as unknown as { r1Violations: string[] }).r1Violations);
      assert.deepEqual(violations, []);
      assert.deepEqual(errors, []);
    });
  },
);
