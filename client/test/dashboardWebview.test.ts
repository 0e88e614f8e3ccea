// The Training Dashboard's page in headless Chromium (client/test/webviewPage.ts), fed the
// messages the extension sends: with MoE metrics it shows one expert-load heat map per layer
// (right experts, steps, downsampled columns, colours, hover text) and the "MoE routing" chart; a
// dense run shows neither; no line chart plots an array-valued key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { MetricRecord } from '../../server/src/protocol/messages';
import { openWebview, poll, send, SKIP_BROWSER, WebviewPage } from './webviewPage';

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

const reset = (records: MetricRecord[]) => ({ type: 'reset', runDir: '/runs/x', runName: 'x', stages: [], records });

describe('Training Dashboard page (headless Chromium)', { skip: SKIP_BROWSER }, () => {
  let view: WebviewPage;
  let page: Page;

  before(async () => {
    view = await openWebview('dashboard', ['webview.css', 'dashboard.css']);
    page = view.page;
  });

  after(async () => {
    await view?.browser.close();
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
    assert.match(title, /^pretrain step \d+ · layer 1, expert 0: 70\.0% of the routed assignments \(4\.20× uniform\)$/);
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
    assert.deepEqual(await view.violations(), []);
    assert.deepEqual(view.errors, []);
  });
});
