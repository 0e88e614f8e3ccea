// The MoE figures of a model's last training step as metrics.jsonl keys (empty for dense models):
// scalars for charts, and per-layer arrays (one share per expert) for the dashboard's heat map.
import { GPT } from '../model/gpt';

const round = (x: number) => Math.round(x * 1e4) / 1e4;

export function moeMetrics(model: GPT): Record<string, number | number[]> {
  const s = model.lastMoeStats;
  if (!s) return {};
  const out: Record<string, number | number[]> = {
    'moe/router_entropy': s.routerEntropy,
    'moe/dropped_ratio': s.droppedRatio,
    'moe/max_load_ratio': s.maxLoadRatio,
  };
  if (s.balanceLoss !== undefined) out['moe/balance_loss'] = s.balanceLoss;
  s.load.forEach((row, l) => (out[`moe/load/layer${l}`] = row.map(round)));
  s.bias.forEach((row, l) => (out[`moe/bias/layer${l}`] = row.map(round)));
  return out;
}
