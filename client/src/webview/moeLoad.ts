// The pure half of the dashboard's expert-load heat maps (no DOM, so the unit tests run it in
// Node): which MoE layers a run logged, each logged step's per-expert shares placed on the shared
// step axis, their downsampling to one column per pixel, and the colour scale.
import type { MetricRecord, StageId } from '../../../server/src/protocol/messages';
import type { StageAxis } from './stageAxis';

/** `moe/load/layer{L}`: each routed expert's share of the layer's routed assignments (sums to 1). */
export const LOAD_KEY = /^moe\/load\/layer(\d+)$/;

export interface MoeLayer {
  layer: number;
  key: string;
}

/** The MoE layers among `keys` (metric names), by layer index. */
export function loadLayers(keys: Iterable<string>): MoeLayer[] {
  const out: MoeLayer[] = [];
  for (const key of keys) {
    const m = LOAD_KEY.exec(key);
    if (m) out.push({ layer: Number(m[1]), key });
  }
  return out.sort((a, b) => a.layer - b.layer);
}

export function isShares(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((n) => typeof n === 'number' && Number.isFinite(n));
}

/** One logged step of one layer on the shared axis. Its cell spans `from`..`x`: the steps since the previous log. */
export interface LoadSample {
  stage: StageId;
  step: number;
  x: number;
  from: number;
  shares: number[];
}

/** `stages`: each stage's records sorted by step. Samples come out in x order. */
export function loadSamples(stages: Map<StageId, MetricRecord[]>, axis: StageAxis, key: string): LoadSample[] {
  const out: LoadSample[] = [];
  for (const stage of axis.order) {
    const start = axis.offset.get(stage) ?? 0;
    let prev = start;
    for (const r of stages.get(stage) ?? []) {
      const shares = r[key];
      if (!isShares(shares)) continue;
      const x = start + r.step;
      out.push({ stage, step: r.step, x, from: Math.min(prev, x), shares });
      prev = x;
    }
  }
  return out;
}

/** The routed experts of a layer: the longest share list logged (they should all be as long). */
export const expertCount = (samples: LoadSample[]): number => samples.reduce((n, s) => Math.max(n, s.shares.length), 0);

/** A `columns` × `experts` grid of load (share × E: 1 is the uniform share), NaN where nothing was logged. */
export interface LoadGrid {
  columns: number;
  experts: number;
  /** Row-major: expert e, column c at `e * columns + c`. */
  values: Float32Array;
  /** Columns that hold data. */
  filled: number;
}

/**
 * Bins the samples into `columns` equal slices of [lo, hi] (one per pixel of the drawn width),
 * so drawing costs the same for 100 logged steps or 100,000. A column that holds several steps
 * shows their mean; a column inside a step's cell but holding no step of its own shows that step,
 * so sparse logging still paints the axis end to end (and a stage without MoE logs stays empty).
 */
export function loadGrid(samples: LoadSample[], lo: number, hi: number, columns: number, experts: number): LoadGrid {
  columns = Math.max(1, Math.floor(columns));
  const values = new Float32Array(columns * experts).fill(NaN);
  const count = new Uint32Array(columns);
  const width = hi > lo ? (hi - lo) / columns : 1;
  const column = (x: number) => Math.min(columns - 1, Math.max(0, Math.floor((x - lo) / width)));
  const sums = new Float64Array(columns * experts);
  for (const s of samples) {
    const c = column(s.x);
    count[c]++;
    for (let e = 0; e < experts; e++) sums[e * columns + c] += (s.shares[e] ?? NaN) * s.shares.length;
  }
  let filled = 0;
  for (let c = 0; c < columns; c++) {
    if (!count[c]) continue;
    filled++;
    for (let e = 0; e < experts; e++) values[e * columns + c] = sums[e * columns + c] / count[c];
  }
  const painted = new Uint8Array(columns);
  for (const s of samples) {
    if (!(s.from < s.x)) continue;
    for (let c = column(s.from), end = column(s.x); c < end; c++) {
      if (count[c] || painted[c]) continue;
      painted[c] = 1;
      filled++;
      for (let e = 0; e < experts; e++) values[e * columns + c] = (s.shares[e] ?? NaN) * s.shares.length;
    }
  }
  return { columns, experts, values, filled };
}

/** The sample whose cell holds `x` (for the hover text), or undefined between stages and past the end. */
export function sampleAt(samples: LoadSample[], x: number): LoadSample | undefined {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid].x < x) lo = mid + 1;
    else hi = mid;
  }
  const s = samples[lo];
  return s && s.from <= x ? s : undefined;
}

// ---- colour ----

export type Rgb = [number, number, number];

/** `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb(…)`/`rgba(…)` (as VS Code theme variables come); alpha is dropped. */
export function parseColor(css: string): Rgb | undefined {
  const s = css.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(s)?.[1];
  if (hex && (hex.length === 3 || hex.length === 4)) return [0, 1, 2].map((i) => parseInt(hex[i] + hex[i], 16)) as Rgb;
  if (hex && (hex.length === 6 || hex.length === 8))
    return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgb;
  const fn = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(s);
  if (fn) return [1, 2, 3].map((i) => Math.min(255, Math.round(Number(fn[i])))) as Rgb;
  return undefined;
}

export const mix = (a: Rgb, b: Rgb, t: number): Rgb =>
  [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t)) as Rgb;

/** Load × uniform at which the scale saturates: 4× (or ¼×) the uniform share is the full colour. */
export const LOAD_CAP = 4;

/** Where a load (share × E) sits on the diverging scale: -1 starved, 0 uniform, 1 overloaded (log scale). */
export function loadPosition(load: number, cap = LOAD_CAP): number {
  if (!(load > 0)) return -1;
  return Math.max(-1, Math.min(1, Math.log2(load) / Math.log2(cap)));
}

export interface LoadScale {
  low: Rgb;
  mid: Rgb;
  high: Rgb;
}

export function loadColor(load: number, scale: LoadScale): Rgb {
  const t = loadPosition(load);
  return t < 0 ? mix(scale.mid, scale.low, -t) : mix(scale.mid, scale.high, t);
}
