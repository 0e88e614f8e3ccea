// Rollouts: G sampled completions per prompt, scored by the stage's reward functions.
import { RlExample } from '../data/records';
import { GPT } from '../model/gpt';
import { generate } from '../model/sampling';
import { RewardBreakdown, RewardSet } from '../rewards';
import { encodePrompt } from '../tokenizer/chatTemplate';
import { Tokenizer } from '../tokenizer/tokenizer';
import { Rng } from '../util/rng';

export interface Completion {
  text: string;
  /** Generated ids (with the end-of-sequence token when one was produced). */
  ids: number[];
  truncated: boolean;
  scores: RewardBreakdown;
}

export interface Group {
  example: RlExample;
  promptIds: number[];
  completions: Completion[];
}

export interface RolloutOptions {
  numGenerations: number;
  maxCompletionLength: number;
  temperature: number;
  topK: number;
  topP: number;
}

export async function rollout(
  model: GPT,
  tok: Tokenizer,
  rewards: RewardSet,
  examples: RlExample[],
  opts: RolloutOptions,
  rng: Rng,
): Promise<Group[]> {
  const promptIds = examples.map((ex) => encodePrompt(tok, ex.prompt));
  const rows = promptIds.flatMap((p) => new Array<number[]>(opts.numGenerations).fill(p));
  const { tokens, truncated } = await generate(model, rows, {
    maxNewTokens: opts.maxCompletionLength,
    temperature: opts.temperature,
    topK: opts.topK,
    topP: opts.topP,
    stopIds: [tok.eos],
    padId: tok.pad,
    rng,
  });
  const texts = tokens.map((ids) => tok.decode(ids.filter((t) => t !== tok.eos)));
  const scores = await rewards.scoreMany(
    texts.map((completion, i) => {
      const ex = examples[Math.floor(i / opts.numGenerations)];
      return {
        completion,
        answer: ex.answer,
        task: ex.task,
        tests: ex.tests,
        language: ex.language,
        length: tokens[i].length,
        truncated: truncated[i],
      };
    }),
  );
  return examples.map((example, g) => ({
    example,
    promptIds: promptIds[g],
    completions: Array.from({ length: opts.numGenerations }, (_, j) => {
      const i = g * opts.numGenerations + j;
      return { text: texts[i], ids: tokens[i], truncated: truncated[i], scores: scores[i] };
    }),
  }));
}
