// Training Dashboard webview: Chart.js line charts of a run's metrics on one step axis (stages
// laid end to end, boundaries marked), expert-load heat maps for MoE runs, and a stage timeline.
// Data arrives from the extension after the `initialized` handshake: a `reset` backfill, then live
// `metrics` and `event`s.
import {
  Chart,
  ChartDataset,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  TooltipItem,
} from 'chart.js';
import type { JobEvent, MetricRecord, StageId, StageInfo } from '../../../server/src/protocol/messages';
import { STAGE_IDS, STAGES } from '../stages';
import { formatNumber, h, themeColor } from './dom';
import type { DashboardState, DashboardToExtension, ExtensionToDashboard } from './messages';
import { heatmapFigure, updateHeatmaps } from './moeHeatmap';
import { boundaryPlugin, StageAxis, stageAxis, stageAt } from './stageAxis';
import { vscodeApi } from './vscodeApi';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

const api = vscodeApi<DashboardState, DashboardToExtension>();
let state: DashboardState = api.getState() ?? {};

interface ChartSpec {
  id: string;
  title: string;
  /** The metric keys this chart plots, from all keys seen with a number value (array-valued ones never reach a line chart). */
  keys: (all: string[]) => string[];
  /** Eval figures are sparse and already averages: never smoothed. */
  smooth: boolean;
}

const fixed =
  (...keys: string[]) =>
  (all: string[]) =>
    keys.filter((k) => all.includes(k));

const CHARTS: ChartSpec[] = [
  { id: 'loss', title: 'Loss', keys: fixed('loss', 'eval/loss'), smooth: true },
  { id: 'reward', title: 'Reward', keys: fixed('reward', 'reward_std'), smooth: true },
  {
    id: 'rewards',
    title: 'Rewards per function (mean)',
    keys: (all) => all.filter((k) => /^rewards\/[^/]+\/mean$/.test(k)).sort(),
    smooth: true,
  },
  {
    id: 'eval',
    title: 'Eval',
    keys: fixed('eval/pass@1', 'eval/format', 'eval/language_consistency'),
    smooth: false,
  },
  { id: 'kl', title: 'KL', keys: fixed('kl'), smooth: true },
  { id: 'entropy', title: 'Entropy', keys: fixed('entropy'), smooth: true },
  {
    id: 'length',
    title: 'Completion length (tokens)',
    keys: fixed('completions/mean_length', 'completions/min_length', 'completions/max_length'),
    smooth: true,
  },
  {
    id: 'signal',
    title: 'Groups with zero reward variance',
    keys: fixed('frac_reward_zero_std', 'completions/clipped_ratio'),
    smooth: true,
  },
  { id: 'lr', title: 'Learning rate', keys: fixed('learning_rate'), smooth: false },
  {
    id: 'moe',
    title: 'MoE routing',
    keys: fixed('moe/max_load_ratio', 'moe/dropped_ratio', 'moe/router_entropy'),
    smooth: true,
  },
];

// ---- data ----

const records = new Map<string, MetricRecord>(); // `${stage}:${step}` -> merged record
let stageInfos: StageInfo[] = [];
type LiveState = { state: 'running' | 'done' | 'failed' | 'cancelled'; step?: number; total?: number };
let live: Partial<Record<string, LiveState>> = {};
let runName: string | undefined;
let loadError: string | undefined;
let daemonText = '';
/** The shared x axis (where each stage starts), rebuilt on each render. */
let axis: StageAxis = stageAxis(new Map());

function addRecords(list: MetricRecord[]): void {
  for (const r of list) {
    if (!r || typeof r.step !== 'number' || typeof r.stage !== 'string') continue;
    const key = `${r.stage}:${r.step}`;
    records.set(key, { ...records.get(key), ...r });
  }
}

function byStage(): Map<StageId, MetricRecord[]> {
  const out = new Map<StageId, MetricRecord[]>();
  for (const r of records.values()) {
    const list = out.get(r.stage as StageId) ?? [];
    list.push(r);
    out.set(r.stage as StageId, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.step - b.step);
  return out;
}

function smoothed(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null) return null;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - Math.pow(weight, n)); // debiased, as TensorBoard does
  });
}

// ---- charts ----

const palette = () => [
  themeColor('--vscode-charts-blue', '#3794ff'),
  themeColor('--vscode-charts-orange', '#d18616'),
  themeColor('--vscode-charts-green', '#89d185'),
  themeColor('--vscode-charts-purple', '#b180d7'),
  themeColor('--vscode-charts-red', '#f14c4c'),
  themeColor('--vscode-charts-yellow', '#cca700'),
];

const charts = new Map<string, Chart<'line'>>();

function chartFor(spec: ChartSpec, canvas: HTMLCanvasElement): Chart<'line'> {
  let chart = charts.get(spec.id);
  if (chart) return chart;
  const fg = themeColor('--vscode-foreground', '#ccc');
  const grid = themeColor('--vscode-charts-lines', 'rgba(128,128,128,0.2)');
  chart = new Chart(canvas, {
    type: 'line',
    data: { datasets: [] },
    plugins: [boundaryPlugin(() => axis)],
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      spanGaps: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      elements: { point: { radius: 0, hitRadius: 6 }, line: { borderWidth: 1.5 } },
      scales: {
        x: { type: 'linear', ticks: { color: fg, maxTicksLimit: 8 }, grid: { color: grid } },
        y: { type: 'linear', ticks: { color: fg, maxTicksLimit: 6 }, grid: { color: grid } },
      },
      plugins: {
        legend: { labels: { color: fg, boxWidth: 10, font: { size: 11 } } },
        tooltip: {
          callbacks: {
            title: (items: TooltipItem<'line'>[]) => {
              const at = items[0] && stageAt(axis, items[0].parsed.x ?? 0);
              return at ? `${at.stage} step ${at.step}` : '';
            },
            label: (item: TooltipItem<'line'>) =>
              `${item.dataset.label}: ${formatNumber(item.parsed.y ?? undefined, 4)}`,
          },
        },
      },
    },
  });
  charts.set(spec.id, chart);
  return chart;
}

function updateCharts(): void {
  const stages = byStage();
  axis = stageAxis(stages);
  const { order, offset } = axis;
  const keySet = new Set<string>();
  const numeric = new Set<string>();
  for (const r of records.values()) {
    for (const [k, v] of Object.entries(r)) {
      keySet.add(k);
      if (typeof v === 'number') numeric.add(k);
    }
  }
  const allKeys = [...numeric];
  updateHeatmaps(stages, axis, [...keySet]);
  const colors = palette();
  for (const spec of CHARTS) {
    const fig = document.getElementById(`chart-${spec.id}`);
    const canvas = fig?.querySelector('canvas');
    if (!fig || !canvas) continue;
    const keys = spec.keys(allKeys);
    fig.classList.toggle('empty', keys.length === 0);
    if (keys.length === 0) continue;
    const chart = chartFor(spec, canvas);
    const datasets = keys.map((key, i) => {
      const data: { x: number; y: number | null }[] = [];
      for (const s of order) {
        const pts = stages.get(s)!.filter((r) => typeof r[key] === 'number');
        if (pts.length === 0) continue;
        const ys = smoothed(
          pts.map((r) => r[key] as number),
          spec.smooth ? (state.smoothing ?? 0) : 0,
        );
        pts.forEach((r, j) => data.push({ x: offset.get(s)! + r.step, y: ys[j] }));
        data.push({ x: offset.get(s)! + pts[pts.length - 1].step + 1e-6, y: null }); // break the line between stages
      }
      let ds = chart.data.datasets.find((d) => d.label === key) as ChartDataset<'line'> | undefined;
      if (!ds) {
        ds = {
          label: key,
          data: [],
          borderColor: colors[i % colors.length],
          backgroundColor: colors[i % colors.length],
        };
        // Spreads and extremes dashed (not moe/max_load_ratio: that is the MoE chart's main line).
        if (key.endsWith('_std') || /\/(min|max)_length$/.test(key)) ds.borderDash = [4, 3];
        if (key.startsWith('eval/')) Object.assign(ds, { pointRadius: 2 });
      }
      ds.data = data;
      return ds;
    });
    chart.data.datasets = datasets;
    // A single step (e.g. one eval so far) gets a readable axis instead of a zero-width one.
    const xs = datasets.flatMap((d) => (d.data as { x: number }[]).map((p) => p.x));
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const xScale = chart.options.scales!.x!;
    xScale.min = hi - lo < 1 ? Math.floor(lo) - 1 : undefined;
    xScale.max = hi - lo < 1 ? Math.ceil(hi) + 1 : undefined;
    chart.update('none');
    // Points drawn (gaps between stages excluded) and the keys plotted; the end-to-end tests
    // (test/e2e) and client/test/dashboardWebview.test.ts read them.
    canvas.dataset.series = keys.join(' ');
    canvas.dataset.points = String(
      datasets.flatMap((d) => d.data).filter((p) => typeof (p as { y?: unknown } | null)?.y === 'number').length,
    );
  }
}

// ---- timeline ----

function stageState(id: StageId, recs: MetricRecord[] | undefined): { cls: string; text: string } {
  const info = stageInfos.find((s) => s.stage === id);
  const l = live[id];
  const step = l?.step ?? info?.step ?? recs?.[recs.length - 1]?.step;
  const total = l?.total ?? info?.totalSteps;
  const counts = step !== undefined ? `${step}${total ? ` / ${total}` : ''}` : '';
  if (l?.state === 'running') return { cls: 'running', text: counts || 'running' };
  if (l?.state === 'failed') return { cls: 'failed', text: `failed ${counts}` };
  if (l?.state === 'cancelled') return { cls: 'partial', text: `stopped ${counts}` };
  if (l?.state === 'done' || info?.done) return { cls: 'done', text: counts ? `done · ${counts}` : 'done' };
  if (step !== undefined) return { cls: 'partial', text: counts };
  return { cls: 'todo', text: '—' };
}

function latestEval(id: StageId, recs: MetricRecord[] | undefined): number | undefined {
  const info = stageInfos.find((s) => s.stage === id)?.eval?.['pass@1'];
  if (typeof info === 'number') return info;
  const withEval = recs?.filter((r) => typeof r['eval/pass@1'] === 'number');
  return withEval?.length ? (withEval[withEval.length - 1]['eval/pass@1'] as number) : undefined;
}

function renderTimeline(): void {
  const el = document.getElementById('timeline');
  if (!el) return;
  const stages = byStage();
  el.replaceChildren(
    ...STAGE_IDS.map((id) => {
      const recs = stages.get(id);
      const st = stageState(id, recs);
      const pass = latestEval(id, recs);
      const clickable = STAGES[id].grpo && !!recs;
      return h(
        clickable ? 'button' : 'div',
        {
          className: `stage ${st.cls}`,
          title: `${STAGES[id].does}\nstarts from ${STAGES[id].startsFrom}${clickable ? '\nClick for its GRPO groups' : ''}`,
          onclick: clickable ? () => api.postMessage({ type: 'showRewards', stage: id }) : undefined,
        },
        h('span', { className: 'stage-name' }, id),
        h('span', { className: 'stage-state' }, st.text),
        pass !== undefined ? h('span', { className: 'stage-eval' }, `pass@1 ${formatNumber(pass, 2)}`) : null,
      );
    }),
  );
}

// ---- page ----

function renderHeader(): void {
  const title = document.getElementById('title');
  if (title) title.textContent = runName ? `Run ${runName}` : 'R1 Training';
  const banner = document.getElementById('banner');
  if (banner) {
    const text = [daemonText, loadError].filter(Boolean).join(' — ');
    banner.textContent = text;
    banner.hidden = !text;
  }
  const empty = document.getElementById('nodata');
  if (empty) empty.hidden = records.size > 0 || !!loadError;
}

let renderQueued = false;
function render(): void {
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(() => {
    renderQueued = false;
    renderHeader();
    renderTimeline();
    updateCharts();
  }, 100);
}

function skeleton(): void {
  const smoothing = h('input', {
    type: 'range',
    min: 0,
    max: 0.99,
    step: 0.01,
    value: state.smoothing ?? 0.6,
    title: 'Smoothing (exponential moving average)',
    'aria-label': 'Smoothing',
  });
  state.smoothing ??= 0.6;
  smoothing.addEventListener('input', () => {
    state = { ...state, smoothing: Number(smoothing.value) };
    api.setState(state);
    render();
  });
  document
    .getElementById('app')!
    .replaceChildren(
      h(
        'header',
        { className: 'toolbar' },
        h('h1', { id: 'title' }, 'R1 Training'),
        h('span', { className: 'spacer' }),
        h('label', { className: 'smoothing' }, 'Smoothing ', smoothing),
        h('button', { onclick: () => api.postMessage({ type: 'showRewards' }) }, 'Rewards Panel'),
        h('button', { onclick: () => api.postMessage({ type: 'openRun' }) }, 'Open Run…'),
      ),
      h('p', { id: 'banner', className: 'banner', hidden: true }),
      h('nav', { id: 'timeline', className: 'timeline', 'aria-label': 'Stages' }),
      h('p', { id: 'nodata', className: 'muted' }, 'No metrics logged yet for this run.'),
      h(
        'section',
        { className: 'charts' },
        ...CHARTS.map((spec) =>
          h(
            'figure',
            { id: `chart-${spec.id}`, className: 'chart empty' },
            h('figcaption', {}, spec.title),
            h('div', { className: 'chart-box' }, h('canvas', { 'aria-label': spec.title, role: 'img' })),
          ),
        ),
        heatmapFigure(),
      ),
    );
}

function onEvent(e: JobEvent): void {
  if (!e.stage) {
    if (e.kind === 'finished' || e.kind === 'failed' || e.kind === 'cancelled') {
      for (const [id, l] of Object.entries(live)) {
        if (l?.state === 'running') live[id] = { ...l, state: e.kind === 'finished' ? 'done' : e.kind };
      }
    }
    return;
  }
  const prev = live[e.stage];
  switch (e.kind) {
    case 'started':
    case 'progress':
      live[e.stage] = { state: 'running', step: e.step ?? prev?.step, total: e.total ?? prev?.total };
      break;
    case 'stageDone':
    case 'finished':
      live[e.stage] = { ...prev, state: 'done' };
      break;
    case 'failed':
    case 'cancelled':
      live[e.stage] = { ...prev, state: e.kind };
      break;
  }
}

window.addEventListener('message', (ev: MessageEvent<ExtensionToDashboard>) => {
  const m = ev.data;
  switch (m.type) {
    case 'reset':
      records.clear();
      live = {};
      addRecords(m.records);
      stageInfos = m.stages;
      runName = m.runName;
      loadError = m.error;
      state = { ...state, runDir: m.runDir };
      api.setState(state);
      break;
    case 'metrics':
      addRecords(m.records);
      break;
    case 'event':
      onEvent(m.event);
      break;
    case 'daemon':
      daemonText = m.text;
      break;
  }
  render();
});

skeleton();
api.setState(state);
api.postMessage({ type: 'initialized', state });
