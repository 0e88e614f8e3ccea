// `r1 presets`: the model size presets with their total and per-token active parameters, so a
// user can see what a Mixture-of-Experts preset costs per token against what it stores.
import { parameterCounts, PRESET_NAMES, presetConfig } from '../../model/config';
import { Tokenizer } from '../../tokenizer/tokenizer';

export interface PresetRow {
  preset: string;
  layers: number;
  dModel: number;
  feedForward: string;
  total: number;
  activePerToken: number;
}

export function presetRows(): PresetRow[] {
  const vocab = new Tokenizer().vocabSize;
  return PRESET_NAMES.map((name) => {
    const c = presetConfig(name, vocab);
    const { total, activePerToken } = parameterCounts(c);
    const m = c.moe;
    const feedForward = m
      ? `MoE: top-${m.topK} of ${m.routedExperts} routed + ${m.sharedExperts} shared, ${m.expertHidden} wide`
      : `dense MLP, ${c.dFF} wide`;
    return { preset: name, layers: c.nLayers, dModel: c.dModel, feedForward, total, activePerToken };
  });
}

export function presetsCommand(opts: { json?: boolean }): void {
  const rows = presetRows();
  if (opts.json) {
    process.stdout.write(JSON.stringify(rows) + '\n');
    return;
  }
  const fmt = (n: number) => n.toLocaleString('en-US');
  const table = [
    ['preset', 'layers', 'dModel', 'feed-forward', 'parameters', 'active per token'],
    ...rows.map((r) => [
      r.preset,
      String(r.layers),
      String(r.dModel),
      r.feedForward,
      fmt(r.total),
      fmt(r.activePerToken),
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) {
    process.stdout.write(
      row.map((cell, i) => (i >= 4 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ') + '\n',
    );
  }
}
