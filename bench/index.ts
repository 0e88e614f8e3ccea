// `npm run bench`: every benchmark, each part in its own process, then one summary table.
//   throughput  our trainStep and KV-cache generate (bench/throughput.ts)
//   torch       the same model in PyTorch on 1 and 2 threads, the faster (bench/torch/reference.py)
//   grpo        one GRPO step split into rollout / reference log-probs / update, peak RSS and
//               tensor count growth (bench/grpo-step.ts)
//   daemon      editor latency of the daemon while it trains (bench/daemon-latency.ts)
//   moe         dense `small` vs Mixture-of-Experts `small-moe` (same active parameters, ~4x total):
//               training tokens/s and loss on the same batches (bench/moe-vs-dense.ts)
//
// Run: npm run bench -- [--json] [--preset small] [--backend wasm] [--skip daemon,torch]
//        [--rounds 2 (ours/torch throughput pairs)] [--grpo-steps 3] [--edits 100] [--records 10000]
//        [--moe-steps 40]
// With --json the last line of stdout is one JSON object (keys in README "Performance").
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { presetConfig } from '../server/src/model/config';
import { Tokenizer } from '../server/src/tokenizer/tokenizer';
import { findTorchPython, PartResult, runPart, runTsPart, TORCH_INSTALL_HINT } from './lib/children';
import { formatTable, median, round } from './lib/measure';

const PARTS = ['throughput', 'torch', 'grpo', 'daemon', 'moe'] as const;
type Part = (typeof PARTS)[number];

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    preset: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'wasm' },
    skip: { type: 'string', multiple: true, default: [] },
    'grpo-steps': { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    edits: { type: 'string', default: '100' },
    records: { type: 'string', default: '10000' },
    'moe-steps': { type: 'string', default: '40' },
  },
});

const skip = new Set(
  args
    .skip!.flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean),
);
for (const s of skip) {
  if (!PARTS.includes(s as Part)) {
    process.stderr.write(`--skip ${s}: unknown part (parts: ${PARTS.join(', ')})\n`);
    process.exit(1);
  }
}
const runs = (p: Part) => !skip.has(p);
type Json = Record<string, unknown>;
const num = (j: Json | undefined, k: string): number | null => (typeof j?.[k] === 'number' ? (j[k] as number) : null);
const ratio = (a: number | null, b: number | null): number | null => (a !== null && b ? round(a / b, 3) : null);

async function main(): Promise<void> {
  const load0 = os.loadavg()[0];
  const results: Partial<Record<Part, PartResult>> = {};
  const say = (s: string) => process.stdout.write(s + '\n');
  const shared = ['--preset', args.preset!];

  // Ours and the reference alternate, `--rounds` times: each pair sees a similar machine load, and
  // the ratios are the median of the per-round ratios.
  let torchNote: string | undefined;
  let parity: PartResult | undefined;
  let py: string | undefined;
  // The exact config of our model (presets live in config.ts only); the reference is dense.
  const config = presetConfig(args.preset!, new Tokenizer().vocabSize);
  if (runs('torch')) {
    py = config.moe ? undefined : findTorchPython();
    if (config.moe) torchNote = `PyTorch reference skipped: it covers the dense presets, and ${args.preset} is MoE.`;
    else if (!py) torchNote = TORCH_INSTALL_HINT;
    else {
      say('== PyTorch reference: parity check ==');
      parity = await runTsPart(path.join('torch', 'parity.ts'), ['--preset', args.preset!, '--backend', args.backend!]);
    }
  }
  const rounds = Math.max(1, Number(args.rounds));
  const ourRounds: PartResult[] = [];
  const torchRounds: PartResult[] = [];
  for (let r = 1; r <= rounds; r++) {
    if (runs('throughput')) {
      say(`== throughput (ours), round ${r}/${rounds} ==`);
      ourRounds.push(await runTsPart('throughput.ts', [...shared, '--backend', args.backend!]));
    }
    if (py) {
      say(`== PyTorch reference, round ${r}/${rounds} ==`);
      torchRounds.push(
        await runPart(py, [path.join('bench', 'torch', 'reference.py'), '--config', JSON.stringify(config)]),
      );
    }
  }
  if (ourRounds.length) results.throughput = medianOfRounds(ourRounds);
  if (torchRounds.length) results.torch = medianOfRounds(torchRounds);
  const roundRatios = (key: string) =>
    ourRounds
      .map((o, i) => ratio(num(o.json, key), num(torchRounds[i]?.json, key)))
      .filter((x): x is number => x !== null);
  if (runs('grpo')) {
    say('== GRPO step ==');
    results.grpo = await runTsPart('grpo-step.ts', [
      ...shared,
      '--backend',
      args.backend!,
      '--steps',
      args['grpo-steps']!,
    ]);
  }
  if (runs('daemon')) {
    say('== daemon latency while training ==');
    results.daemon = await runTsPart('daemon-latency.ts', ['--edits', args.edits!, '--records', args.records!]);
  }
  if (runs('moe')) {
    say('== dense vs MoE ==');
    results.moe = await runTsPart('moe-vs-dense.ts', ['--steps', args['moe-steps']!]);
  }
  const load1 = os.loadavg()[0];

  for (const [name, r] of Object.entries(results)) {
    if (r.text.trim()) say(`\n-- ${name} --\n${r.text.trim()}`);
    if (!r.ok) say(`!! ${name} failed: ${r.error}`);
  }
  if (torchNote) say(`\n${torchNote}`);

  const ours = results.throughput?.ok ? results.throughput.json : undefined;
  const torch = results.torch?.ok ? results.torch.json : undefined;
  const grpo = results.grpo?.ok ? results.grpo.json : undefined;
  const daemon = results.daemon?.ok ? results.daemon.json : undefined;
  const moe = results.moe?.ok ? results.moe.json : undefined;
  const summary: Json = {
    preset: args.preset,
    backend: (ours?.backend as string | undefined) ?? args.backend,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    node: process.version,
    loadavg_1m_before: round(load0, 2),
    loadavg_1m_after: round(load1, 2),
    parameters: num(ours, 'parameters'),
    torch_parameters: num(torch, 'parameters'),
    train_batch: num(ours, 'train_batch'),
    train_seq: num(ours, 'train_seq'),
    train_tokens_per_second: num(ours, 'train_tokens_per_second'),
    torch_train_tokens_per_second: num(torch, 'train_tokens_per_second'),
    train_ratio_vs_torch: medianOrNull(roundRatios('train_tokens_per_second')),
    train_ratio_vs_torch_cpu: medianOrNull(roundRatios('train_tokens_per_cpu_second')),
    train_ratio_rounds: roundRatios('train_tokens_per_second'),
    sample_tokens_per_second: num(ours, 'sample_tokens_per_second'),
    torch_sample_tokens_per_second: num(torch, 'sample_tokens_per_second'),
    sample_ratio_vs_torch: medianOrNull(roundRatios('sample_tokens_per_second')),
    sample_ratio_vs_torch_cpu: medianOrNull(roundRatios('sample_tokens_per_cpu_second')),
    sample_ratio_rounds: roundRatios('sample_tokens_per_second'),
    torch_train_threads: num(torch, 'train_threads'),
    torch_sample_threads: num(torch, 'sample_threads'),
    torch_sgemm_gflops: num(torch, 'sgemm_gflops'),
    // Same weights in both: how far apart the logits are (the reference is the same function).
    torch_parity_max_abs_logit_diff: num(parity?.json, 'max_abs_logit_diff'),
    grpo_rollout_ms: num(grpo, 'grpo_rollout_ms'),
    grpo_ref_logprobs_ms: num(grpo, 'grpo_ref_logprobs_ms'),
    grpo_update_ms: num(grpo, 'grpo_update_ms'),
    grpo_step_ms: num(grpo, 'grpo_step_ms'),
    grpo_rows: grpo ? (grpo.prompts as number) * (grpo.generations as number) : null,
    peak_rss_mb: num(grpo, 'peak_rss_mb'),
    throughput_peak_rss_mb: num(ours, 'peak_rss_mb'),
    tensor_count_growth: num(grpo, 'tensor_count_growth'),
    grpo_steps: num(grpo, 'steps'),
    ...pick(daemon, /^(diagnostics|hover|document_symbol|open_diagnostics)_/),
    daemon_training_throughout: daemon?.training_throughout ?? null,
    ...pick(moe, /^(dense|moe)_/),
    failed: Object.entries(results)
      .filter(([, r]) => !r.ok)
      .map(([name]) => name),
    skipped: [...skip],
  };
  if (parity && !parity.ok) say(`!! the PyTorch reference does not match our model: ${parity.error ?? parity.text}`);
  if (
    summary.parameters !== null &&
    summary.torch_parameters !== null &&
    summary.parameters !== summary.torch_parameters
  )
    say(`!! parameter counts differ: ours ${summary.parameters}, torch ${summary.torch_parameters}`);

  say(`\n== summary (${summary.cpus} x ${summary.cpu_model}, load ${round(load0, 2)} -> ${round(load1, 2)}) ==`);
  say(summaryTable(summary));
  if (args.json) say(JSON.stringify(summary));
  if ((summary.failed as string[]).length) process.exitCode = 1;
}

function medianOrNull(xs: number[]): number | null {
  return xs.length ? round(median(xs), 3) : null;
}

/** One result for several rounds of a part: its numbers are the per-round medians; a failed round fails it. */
function medianOfRounds(parts: PartResult[]): PartResult {
  const failed = parts.find((p) => !p.ok);
  if (failed) return failed;
  const json: Json = { ...parts[0].json, rounds: parts.length };
  for (const [k, v] of Object.entries(parts[0].json!)) {
    // Measures only: counts and settings (threads, batch) stay those of the first round.
    if (typeof v === 'number' && /(per_second|per_cpu_second|_ms|_mb|gflops)$/.test(k))
      json[k] = round(median(parts.map((p) => p.json![k] as number)), 1);
  }
  return {
    ok: true,
    json,
    text: parts.map((p) => p.text.trim()).join('\n'),
    seconds: parts.reduce((a, p) => a + p.seconds, 0),
  };
}

function pick(j: Json | undefined, re: RegExp): Json {
  return Object.fromEntries(Object.entries(j ?? {}).filter(([k]) => re.test(k)));
}

function summaryTable(s: Json): string {
  const f = (v: unknown, digits = 0) => (typeof v === 'number' ? v.toFixed(digits) : '-');
  const rows: string[][] = [
    ['parameters', f(s.parameters), f(s.torch_parameters), ''],
    [
      'max |logit difference|, same weights',
      '',
      '',
      typeof s.torch_parity_max_abs_logit_diff === 'number' ? s.torch_parity_max_abs_logit_diff.toExponential(1) : '-',
    ],
    [
      `train tokens/s (B=${f(s.train_batch)}, T=${f(s.train_seq)})`,
      f(s.train_tokens_per_second),
      f(s.torch_train_tokens_per_second),
      f(s.train_ratio_vs_torch, 3),
    ],
    ['  same, per CPU-second', '', '', f(s.train_ratio_vs_torch_cpu, 3)],
    [
      'sample tokens/s (KV cache)',
      f(s.sample_tokens_per_second),
      f(s.torch_sample_tokens_per_second),
      f(s.sample_ratio_vs_torch, 3),
    ],
    ['  same, per CPU-second', '', '', f(s.sample_ratio_vs_torch_cpu, 3)],
    [`GRPO rollout ms (${f(s.grpo_rows)} rows)`, f(s.grpo_rollout_ms), '', ''],
    ['GRPO reference log-probs ms', f(s.grpo_ref_logprobs_ms), '', ''],
    ['GRPO policy update ms', f(s.grpo_update_ms), '', ''],
    ['GRPO peak RSS MB', f(s.peak_rss_mb), '', ''],
    [`tensor count growth (${f(s.grpo_steps)} GRPO steps)`, f(s.tensor_count_growth), '', ''],
    ['diagnostics p50 / p95 ms (training)', `${f(s.diagnostics_p50_ms, 1)} / ${f(s.diagnostics_p95_ms, 1)}`, '', ''],
    ['dense train tokens/s, loss', `${f(s.dense_train_tokens_per_second)}, ${f(s.dense_final_loss, 3)}`, '', ''],
    [
      'MoE train tokens/s, loss (x dense)',
      `${f(s.moe_train_tokens_per_second)}, ${f(s.moe_final_loss, 3)}`,
      '',
      f(s.moe_throughput_ratio, 2),
    ],
  ];
  // Rows of skipped or failed parts have no figure at all: leave them out.
  const measured = rows.filter((r) => r.slice(1).some((cell) => cell !== '' && cell !== '-' && cell !== '- / -'));
  return formatTable(['measure', 'ours', 'torch', 'ours/torch'], measured);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
