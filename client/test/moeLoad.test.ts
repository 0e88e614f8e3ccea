// The pure half of the dashboard's MoE expert-load heat maps: layer keys, samples on the shared
// step axis, downsampling to the drawn width, and the diverging colour scale.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricRecord, StageId } from '../../server/src/protocol/messages';
import {
  expertCount,
  loadColor,
  loadGrid,
  loadLayers,
  loadPosition,
  loadSamples,
  parseColor,
  sampleAt,
} from '../src/webview/moeLoad';
import { stageAxis } from '../src/webview/stageAxis';

const rec = (stage: StageId, step: number, extra: Record<string, number | number[]> = {}): MetricRecord => ({
  stage,
  step,
  loss: 1,
  ...extra,
});

/** As the dashboard's byStage: each stage's records sorted by step. */
function byStage(records: MetricRecord[]): Map<StageId, MetricRecord[]> {
  const out = new Map<StageId, MetricRecord[]>();
  for (const r of records) {
    const list = out.get(r.stage as StageId) ?? [];
    list.push(r);
    out.set(r.stage as StageId, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.step - b.step);
  return out;
}

const at = (grid: ReturnType<typeof loadGrid>, column: number) =>
  Array.from({ length: grid.experts }, (_, e) => grid.values[e * grid.columns + column]);

describe('loadLayers', () => {
  it('finds moe/load/layer{L} keys in numeric layer order and nothing else', () => {
    const keys = [
      'loss',
      'moe/load/layer10',
      'moe/bias/layer0',
      'moe/load/layer2',
      'moe/max_load_ratio',
      'moe/load/layer0',
    ];
    assert.deepEqual(
      loadLayers(keys).map((l) => l.layer),
      [0, 2, 10],
    );
    assert.deepEqual(loadLayers(['loss', 'moe/load/layerX', 'x/moe/load/layer1']), []);
  });
});

describe('loadSamples', () => {
  const stages = byStage([
    rec('pretrain', 10, { 'moe/load/layer0': [0.5, 0.5] }),
    rec('pretrain', 5, { 'moe/load/layer0': [0.25, 0.75] }),
    rec('pretrain', 7), // a line without the load (e.g. an eval line): skipped
    rec('cold-start', 4, { 'moe/load/layer0': [1, 0] }),
    rec('reward-model', 3), // a stage that logged no MoE load
    rec('rl-all', 2, { 'moe/load/layer0': [0.1, 0.9], 'moe/bias/layer0': [0, 0] }),
  ]);
  const axis = stageAxis(stages);

  it('places each logged step on the shared axis; its cell reaches back to the previous log or the stage start', () => {
    assert.deepEqual(
      [...axis.offset],
      [
        ['pretrain', 0],
        ['cold-start', 10],
        ['reward-model', 14],
        ['rl-all', 17],
      ],
    );
    const samples = loadSamples(stages, axis, 'moe/load/layer0');
    assert.deepEqual(
      samples.map(({ stage, step, from, x }) => ({ stage, step, from, x })),
      [
        { stage: 'pretrain', step: 5, from: 0, x: 5 },
        { stage: 'pretrain', step: 10, from: 5, x: 10 },
        { stage: 'cold-start', step: 4, from: 10, x: 14 },
        { stage: 'rl-all', step: 2, from: 17, x: 19 },
      ],
    );
    assert.equal(expertCount(samples), 2);
    assert.deepEqual(loadSamples(stages, axis, 'moe/load/layer1'), []);
  });

  it('finds the sample under a point of the axis, none between stages or past the end', () => {
    const samples = loadSamples(stages, axis, 'moe/load/layer0');
    assert.equal(sampleAt(samples, 0)?.step, 5);
    assert.equal(sampleAt(samples, 7.5)?.step, 10);
    assert.equal(sampleAt(samples, 10)?.step, 10);
    assert.equal(sampleAt(samples, 12)?.stage, 'cold-start');
    assert.equal(sampleAt(samples, 15.5), undefined, 'reward-model logged no load');
    assert.equal(sampleAt(samples, 18)?.stage, 'rl-all');
    assert.equal(sampleAt(samples, 25), undefined);
  });
});

describe('loadGrid', () => {
  it('paints every column of a sparsely logged run with its step’s share × E, and leaves a stage without MoE empty', () => {
    const stages = byStage([
      rec('pretrain', 5, { 'moe/load/layer0': [0.25, 0.75] }),
      rec('pretrain', 10, { 'moe/load/layer0': [0.5, 0.5] }),
      rec('reward-model', 5),
    ]);
    const axis = stageAxis(stages);
    assert.equal(axis.end, 15);
    const grid = loadGrid(loadSamples(stages, axis, 'moe/load/layer0'), 0, axis.end, 15, 2);
    assert.equal(grid.columns, 15);
    assert.deepEqual(at(grid, 0), [0.5, 1.5]); // step 5's cell reaches back to the stage start
    assert.deepEqual(at(grid, 4), [0.5, 1.5]);
    assert.deepEqual(at(grid, 5), [0.5, 1.5], 'step 5 itself');
    assert.deepEqual(at(grid, 6), [1, 1], "step 10's cell");
    assert.deepEqual(at(grid, 10), [1, 1], 'step 10 itself');
    for (let c = 11; c < 15; c++) assert.ok(at(grid, c).every(Number.isNaN), `column ${c} (reward-model) is empty`);
    assert.equal(grid.filled, 11);
  });

  it('averages the steps that share a column, so a long run costs its drawn width', () => {
    const records: MetricRecord[] = [];
    // 10,000 steps alternating between two skewed loads: a column of ~100 steps averages to about uniform
    // (exactly, for an even count), where any single step is 0.4× or 1.6× on experts 0 and 3.
    for (let step = 1; step <= 10_000; step++)
      records.push(
        rec('pretrain', step, { 'moe/load/layer0': step % 2 ? [0.1, 0.2, 0.3, 0.4] : [0.4, 0.3, 0.2, 0.1] }),
      );
    const stages = byStage(records);
    const axis = stageAxis(stages);
    const grid = loadGrid(loadSamples(stages, axis, 'moe/load/layer0'), 0, axis.end, 100, 4);
    assert.equal(grid.values.length, 400);
    assert.equal(grid.filled, 100);
    for (const v of grid.values) assert.ok(Math.abs(v - 1) < 0.02, `${v} ≈ 1 (uniform)`);
    assert.deepEqual(at(grid, 50), [1, 1, 1, 1], 'column 50 holds steps 5000..5099');
  });

  it('keeps at least one column, and an empty run is all empty', () => {
    const grid = loadGrid([], 0, 10, 0.4, 3);
    assert.equal(grid.columns, 1);
    assert.equal(grid.filled, 0);
    assert.ok([...grid.values].every(Number.isNaN));
  });
});

describe('colour scale', () => {
  it('reads theme colours as VS Code writes them', () => {
    assert.deepEqual(parseColor('#3794ff'), [55, 148, 255]);
    assert.deepEqual(parseColor(' #3794ff80 '), [55, 148, 255]);
    assert.deepEqual(parseColor('#fa0'), [255, 170, 0]);
    assert.deepEqual(parseColor('rgba(128, 128, 128, 0.5)'), [128, 128, 128]);
    assert.deepEqual(parseColor('rgb(1 2 3)'), [1, 2, 3]);
    assert.equal(parseColor(''), undefined);
    assert.equal(parseColor('var(--x)'), undefined);
  });

  it('is diverging on a log scale: uniform in the middle, 4× and ¼× saturated', () => {
    assert.equal(loadPosition(1), 0);
    assert.equal(loadPosition(2), 0.5);
    assert.equal(loadPosition(0.5), -0.5);
    assert.equal(loadPosition(4), 1);
    assert.equal(loadPosition(24), 1);
    assert.equal(loadPosition(0.25), -1);
    assert.equal(loadPosition(0), -1, 'an expert that got nothing is fully starved');
    const scale = {
      low: [0, 0, 255] as [number, number, number],
      mid: [100, 100, 100] as [number, number, number],
      high: [255, 0, 0] as [number, number, number],
    };
    assert.deepEqual(loadColor(1, scale), [100, 100, 100]);
    assert.deepEqual(loadColor(4, scale), [255, 0, 0]);
    assert.deepEqual(loadColor(0, scale), [0, 0, 255]);
    assert.deepEqual(loadColor(2, scale), [178, 50, 50]);
  });
});
