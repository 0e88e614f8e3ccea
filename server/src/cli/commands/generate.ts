import { BackendName, initBackend } from '../../backend/backend';
import { loadCheckpoint } from '../../checkpoint/checkpoint';
import { generate } from '../../model/sampling';
import { encodePrompt } from '../../tokenizer/chatTemplate';
import { StreamingDecoder } from '../../tokenizer/tokenizer';
import { Rng } from '../../util/rng';
import { finiteNumber, nonNegativeInt, positiveInt } from '../parse';

interface GenerateOptions {
  checkpoint: string;
  prompt: string;
  maxTokens: string;
  temperature: string;
  topK: string;
  topP: string;
  seed: string;
  backend?: BackendName;
}

export async function generateCommand(opts: GenerateOptions): Promise<void> {
  const maxNewTokens = positiveInt(opts.maxTokens, '--max-tokens');
  const temperature = finiteNumber(opts.temperature, '--temperature');
  await initBackend(opts.backend ?? 'auto');
  const { model, tokenizer } = loadCheckpoint(opts.checkpoint);
  const decoder = new StreamingDecoder(tokenizer);
  await generate(model, [encodePrompt(tokenizer, opts.prompt)], {
    maxNewTokens,
    temperature,
    topK: nonNegativeInt(opts.topK, '--top-k'),
    topP: finiteNumber(opts.topP, '--top-p'),
    stopIds: [tokenizer.eos],
    padId: tokenizer.pad,
    rng: new Rng(nonNegativeInt(opts.seed, '--seed')),
    onToken: (_row, token) => {
      if (token !== tokenizer.eos) process.stdout.write(decoder.push(token));
    },
  });
  process.stdout.write(decoder.flush() + '\n');
}
