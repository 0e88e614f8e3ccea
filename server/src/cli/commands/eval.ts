import { BackendName, initBackend } from '../../backend/backend';
import { loadCheckpoint } from '../../checkpoint/checkpoint';
import { loadRl } from '../../data/loaders';
import { evaluate } from '../../eval/evaluate';
import { positiveInt, finiteNumber } from '../parse';

interface EvalOptions {
  checkpoint: string;
  data: string;
  samples: string;
  temperature: string;
  maxTokens: string;
  batchSize: string;
  json?: boolean;
  backend?: BackendName;
}

export async function evalCommand(opts: EvalOptions): Promise<void> {
  const samples = positiveInt(opts.samples, '--samples');
  const data = loadRl(opts.data);
  await initBackend(opts.backend ?? 'auto');
  const { model, tokenizer } = loadCheckpoint(opts.checkpoint);
  const result = await evaluate(model, tokenizer, data, {
    maxNewTokens: positiveInt(opts.maxTokens, '--max-tokens'),
    batchSize: positiveInt(opts.batchSize, '--batch-size'),
    samples,
    temperature: samples > 1 ? finiteNumber(opts.temperature, '--temperature') : 0,
    onProgress: opts.json ? undefined : (done, total) => process.stderr.write(`\reval ${done}/${total}`),
  });
  if (!opts.json) {
    process.stderr.write('\n');
    const by = Object.entries(result.by_group)
      .map(([g, v]) => `${g} ${v['pass@1'].toFixed(3)} (n=${v.n})`)
      .join(', ');
    process.stdout.write(
      `n=${result.n} pass@1=${result['pass@1'].toFixed(3)} format=${result.format.toFixed(3)} language_consistency=${result.language_consistency.toFixed(3)} mean_completion_tokens=${result.mean_completion_tokens.toFixed(1)}\nby group: ${by}\n`,
    );
    for (const ex of result.examples)
      process.stdout.write(`\n${ex.prompt} -> ${ex.correct ? 'correct' : 'wrong'}\n${ex.completion}\n`);
  }
  const { examples, ...figures } = result;
  void examples;
  if (opts.json) process.stdout.write(JSON.stringify(figures) + '\n');
}
