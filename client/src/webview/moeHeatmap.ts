// The dashboard's expert-load heat maps: one per MoE layer, x the shared step axis of the line
// charts, y the routed expert, colour its share × E on a diverging theme-colour scale (1 = uniform).
// Chart.js draws the axes and stage boundaries; a plugin paints the grid (one column per pixel of
// the plot width, see `loadGrid`) under them. Hover text comes from the canvas' title attribute.
import { Chart } from 'chart.js';
import type { MetricRecord, StageId } from '../../../server/src/protocol/messages';
import { h, themeColor } from './dom';
import {
  expertCount,
  LOAD_CAP,
  loadColor,
  loadGrid,
  loadLayers,
  LoadSample,
  LoadScale,
  loadSamples,
  mix,
  parseColor,
  sampleAt,
  type Rgb,
} from './moeLoad';
import { boundaryPlugin, StageAxis, stageAt } from './stageAxis';

interface LayerView {
  layer: number;
  wrap: HTMLElement;
  box: HTMLElement;
  canvas: HTMLCanvasElement;
  chart: Chart<'line'>;
  samples: LoadSample[];
  experts: number;
}

const views = new Map<number, LayerView>();
let axis: StageAxis = { order: [], offset: new Map(), bounds: [], end: 1 };

function themeRgb(name: string, fallback: Rgb): Rgb {
  return parseColor(themeColor(name, '')) ?? fallback;
}

/** Blue for a starved expert, red for an overloaded one, a faint foreground tint for uniform (empty stays background). */
function scale(): LoadScale {
  const bg = themeRgb('--vscode-editor-background', [30, 30, 30]);
  const fg = themeRgb('--vscode-foreground', [204, 204, 204]);
  return {
    low: themeRgb('--vscode-charts-blue', [55, 148, 255]),
    mid: mix(bg, fg, 0.15),
    high: themeRgb('--vscode-charts-red', [241, 76, 76]),
  };
}

/** The figure: caption, legend, and a list the layers' canvases go in. Hidden until a run logs `moe/load/*`. */
export function heatmapFigure(): HTMLElement {
  const legend = h('canvas', { className: 'heatmap-legend-bar', width: 120, height: 10, 'aria-hidden': 'true' });
  return h(
    'figure',
    { id: 'moe-load', className: 'chart heatmaps empty', 'data-layers': 0 },
    h('figcaption', {}, 'Expert load per MoE layer'),
    h(
      'div',
      { className: 'heatmap-legend' },
      h('span', {}, `≤ 1/${LOAD_CAP}×`),
      legend,
      h('span', {}, `≥ ${LOAD_CAP}×`),
      h(
        'span',
        { className: 'muted' },
        'colour: share × E (E routed experts) · 1× = uniform (1/E of the routed assignments) · blue: starved · red: overloaded',
      ),
    ),
    h('div', { id: 'moe-load-layers', className: 'heatmap-layers' }),
  );
}

function drawLegend(canvas: HTMLCanvasElement): void {
  const c = canvas.getContext('2d');
  if (!c) return;
  const s = scale();
  for (let px = 0; px < canvas.width; px++) {
    // Log scale from 1/cap to cap, as the cells.
    const load = Math.pow(LOAD_CAP, (px / (canvas.width - 1)) * 2 - 1);
    c.fillStyle = `rgb(${loadColor(load, s).join(',')})`;
    c.fillRect(px, 0, 1, canvas.height);
  }
}

/** Paints the layer's grid into the plot area, before the boundary plugin draws over it. */
function gridPlugin(view: () => LayerView) {
  return {
    id: 'r1LoadGrid',
    beforeDatasetsDraw(chart: Chart<'line'>) {
      const v = view();
      const area = chart.chartArea;
      if (!area || !v.experts) return;
      const grid = loadGrid(v.samples, 0, axis.end, Math.round(area.width), v.experts);
      v.canvas.dataset.columns = String(grid.filled);
      const image = new ImageData(grid.columns, grid.experts);
      const s = scale();
      for (let i = 0; i < grid.values.length; i++) {
        const load = grid.values[i];
        if (Number.isNaN(load)) continue; // transparent: nothing logged there
        const [r, g, b] = loadColor(load, s);
        image.data.set([r, g, b, 255], i * 4);
      }
      const off = document.createElement('canvas');
      off.width = grid.columns;
      off.height = grid.experts;
      off.getContext('2d')?.putImageData(image, 0, 0);
      const c = chart.ctx;
      c.save();
      c.imageSmoothingEnabled = false;
      c.drawImage(off, area.left, area.top, area.width, area.height);
      c.restore();
    },
  };
}

function createView(layer: number, list: HTMLElement): LayerView {
  const canvas = h('canvas', { role: 'img', 'aria-label': `Expert load, MoE layer ${layer}`, 'data-layer': layer });
  const box = h('div', { className: 'heatmap-box' }, canvas);
  const wrap = h('div', { className: 'heatmap' }, box);
  list.append(wrap);
  const fg = themeColor('--vscode-foreground', '#ccc');
  const view = { layer, wrap, box, canvas, samples: [], experts: 0 } as unknown as LayerView;
  view.chart = new Chart(canvas, {
    type: 'line',
    data: { datasets: [] },
    plugins: [gridPlugin(() => view), boundaryPlugin(() => axis)],
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      events: [], // hover is the title attribute below, not Chart.js' tooltip
      scales: {
        x: { type: 'linear', min: 0, max: 1, ticks: { color: fg, maxTicksLimit: 8 }, grid: { display: false } },
        y: {
          type: 'linear',
          reverse: true, // expert 0 on top, as a matrix reads
          min: -0.5,
          max: 0.5,
          afterBuildTicks: (scale) => {
            const n = Math.round(Number(scale.max) + 0.5);
            const every = Math.max(1, Math.ceil(n / 8));
            scale.ticks = Array.from({ length: Math.ceil(n / every) }, (_, i) => ({ value: i * every }));
          },
          ticks: { color: fg, autoSkip: false },
          grid: { display: false },
          title: { display: true, text: `layer ${layer}`, color: fg },
        },
      },
      plugins: { legend: { display: false }, tooltip: { enabled: false } },
    },
  });
  canvas.addEventListener('mousemove', (ev) => (canvas.title = hoverText(view, ev)));
  return view;
}

function hoverText(v: LayerView, ev: MouseEvent): string {
  const { chart } = v;
  const rect = v.canvas.getBoundingClientRect();
  const px = ev.clientX - rect.left;
  const py = ev.clientY - rect.top;
  const a = chart.chartArea;
  if (!a || px < a.left || px > a.right || py < a.top || py > a.bottom) return '';
  const x = chart.scales.x.getValueForPixel(px) ?? NaN;
  const expert = Math.round(chart.scales.y.getValueForPixel(py) ?? NaN);
  const s = sampleAt(v.samples, x);
  const share = s?.shares[expert];
  if (!s || share === undefined) return stageAt(axis, x) ? `layer ${v.layer}: no MoE load logged here` : '';
  const load = share * s.shares.length;
  return `${s.stage} step ${s.step} · layer ${v.layer}, expert ${expert}: ${(share * 100).toFixed(1)}% of the routed assignments (${load.toFixed(2)}× uniform)`;
}

/** Heights by expert count, as CSS classes (the CSP allows no inline styles). */
function rowsClass(experts: number): string {
  return experts <= 8 ? 'rows-s' : experts <= 16 ? 'rows-m' : 'rows-l';
}

/** Redraws the heat maps for the records so far; `stages` sorted by step, as the line charts get them. */
export function updateHeatmaps(stages: Map<StageId, MetricRecord[]>, stageAxis: StageAxis, keys: string[]): void {
  const figure = document.getElementById('moe-load');
  const list = document.getElementById('moe-load-layers');
  if (!figure || !list) return;
  axis = stageAxis;
  const layers = loadLayers(keys);
  for (const [layer, v] of views) {
    if (layers.some((l) => l.layer === layer)) continue;
    v.chart.destroy();
    v.wrap.remove();
    views.delete(layer);
  }
  figure.classList.toggle('empty', layers.length === 0);
  figure.dataset.layers = String(layers.length);
  if (layers.length === 0) return;
  const legend = figure.querySelector<HTMLCanvasElement>('.heatmap-legend-bar');
  if (legend) drawLegend(legend); // theme colours can change under a live page
  for (const { layer, key } of layers) {
    const v = views.get(layer) ?? createView(layer, list);
    views.set(layer, v);
    v.samples = loadSamples(stages, axis, key);
    v.experts = expertCount(v.samples);
    v.canvas.dataset.experts = String(v.experts);
    v.canvas.dataset.steps = String(v.samples.length);
    v.box.className = `heatmap-box ${rowsClass(v.experts)}`;
    const { x, y } = v.chart.options.scales!;
    x!.max = Math.max(1, axis.end);
    y!.max = Math.max(1, v.experts) - 0.5;
    v.chart.update('none');
  }
  // Keep the layers in index order when one shows up late.
  const wraps = [...views.values()].sort((a, b) => a.layer - b.layer).map((v) => v.wrap);
  if (wraps.some((w, i) => list.children[i] !== w)) list.replaceChildren(...wraps);
}
