// Greedy (or sampled) evaluation on held-out prompts with answers: pass@1, format and
// language consistency as the reward functions define them, per task family breakdown.
import { RlExample } from '../data/records';
import { GPT } from '../model/gpt';
import { generate } from '../model/sampling';
import { builtinRewards } from '../rewards';
import { encodePrompt } from '../tokenizer/chatTemplate';
import { Tokenizer } from '../tokenizer/tokenizer';
import { Rng } from '../util/rng';

export interface EvalOptions {
  maxNewTokens: number;
  batchSize: number;
  /** 0 = greedy (pass@1 as the spec defines it). */
  temperature?: number;
  /** Completions per prompt; with K > 1 pass@1 is the mean over samples. */
  samples?: number;
  seed?: number;
  /** Plain layout (pretrained base): the prompt is followed by "\n" with no chat tokens, and the answer is read from "Answer: N". */
  plain?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface EvalResult {
  n: number;
  'pass@1': number;
  format: number;
  language_consistency: number;
  mean_completion_tokens: number;
  /** pass@1 per arithmetic operation (or per task for other data). */
  by_group: Record<string, { n: number; 'pass@1': number }>;
  /** A few completions for eyeballing. */
  examples: { prompt: string; completion: string; answer: string; correct: boolean }[];
}

export interface ScoredCompletion {
  completion: string;
  tokens: number;
  correct: boolean;
  format: number;
  language: number;
}

/** Groups arithmetic prompts by operator so users see + / - / * separately. */
export function groupOf(ex: RlExample): string {
  const text = typeof ex.prompt === 'string' ? ex.prompt : ex.prompt.map((m) => m.content).join(' ');
  const m = /^What is \d+ ([+\-*]) \d+\?$/.exec(text.trim());
  return m ? m[1] : ex.task;
}

export async function evaluate(model: GPT, tok: Tokenizer, data: RlExample[], opts: EvalOptions): Promise<EvalResult> {
  const rewards = builtinRewards();
  const accuracy = rewards.accuracy();
  const format = rewards.format();
  const language = rewards.language();
  const K = Math.max(1, opts.samples ?? 1);
  const rng = new Rng(opts.seed ?? 1234);
  const scored: { ex: RlExample; s: ScoredCompletion }[] = [];
  const jobs = data.flatMap((ex) => new Array<RlExample>(K).fill(ex));
  for (let i = 0; i < jobs.length; i += opts.batchSize) {
    const batch = jobs.slice(i, i + opts.batchSize);
    const prompts = batch.map((ex) =>
      opts.plain
        ? tok.encode(`${typeof ex.prompt === 'string' ? ex.prompt : ex.prompt.map((m) => m.content).join('\n')}\n`)
        : encodePrompt(tok, ex.prompt),
    );
    const { tokens } = await generate(model, prompts, {
      maxNewTokens: opts.maxNewTokens,
      temperature: opts.temperature ?? 0,
      stopIds: [tok.eos],
      padId: tok.pad,
      rng,
    });
    batch.forEach((ex, b) => {
      const ids = tokens[b].filter((t) => t !== tok.eos);
      const completion = tok.decode(ids);
      const ctx = {
        completion: opts.plain ? plainToTemplate(completion) : completion,
        answer: ex.answer,
        task: ex.task,
      };
      scored.push({
        ex,
        s: {
          completion,
          tokens: tokens[b].length,
          correct: (accuracy(ctx) as number) === 1,
          format: format(ctx) as number,
          language: language(ctx) as number,
        },
      });
    });
    opts.onProgress?.(Math.min(i + opts.batchSize, jobs.length), jobs.length);
  }
  return summarize(scored);
}

/** Reads a plain-layout answer line ("Answer: 42") as if it were an <answer> block. */
function plainToTemplate(completion: string): string {
  const m = /Answer:\s*(-?\d+)/.exec(completion);
  return m ? `<answer>${m[1]}</answer>` : completion;
}

function summarize(scored: { ex: RlExample; s: ScoredCompletion }[]): EvalResult {
  const n = scored.length;
  const mean = (f: (s: ScoredCompletion) => number) => (n ? scored.reduce((a, x) => a + f(x.s), 0) / n : 0);
  const by_group: EvalResult['by_group'] = {};
  for (const { ex, s } of scored) {
    const g = (by_group[groupOf(ex)] ??= { n: 0, 'pass@1': 0 });
    g.n++;
    g['pass@1'] += s.correct ? 1 : 0;
  }
  for (const g of Object.values(by_group)) g['pass@1'] = g.n ? g['pass@1'] / g.n : 0;
  return {
    n,
    'pass@1': mean((s) => (s.correct ? 1 : 0)),
    format: mean((s) => s.format),
    language_consistency: mean((s) => s.language),
    mean_completion_tokens: mean((s) => s.tokens),
    by_group,
    examples: scored.slice(0, 3).map(({ ex, s }) => ({
      prompt: typeof ex.prompt === 'string' ? ex.prompt : JSON.stringify(ex.prompt),
      completion: s.completion,
      answer: ex.answer,
      correct: s.correct,
    })),
  };
}
