// Writes the sample datasets for the arithmetic task family (spec §3) from a seed.
//   npm run samples                         regenerate everything in samples/
//   npm run samples -- --fresh-eval 300 --seed 7 --out /tmp/fresh.jsonl
//                                           a new eval set disjoint from every shipped training prompt
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  corpusDocument,
  drawProblems,
  LEVELS,
  parsePrompt,
  Problem,
  problemKey,
  promptOf,
  randomProblem,
  reasoningCompletion,
  weightedOp,
  solve,
} from '../server/src/samples/arithmetic';
import { generalPrompts, generalSftRecords, preferencePairs } from '../server/src/samples/general';
import { Rng } from '../server/src/util/rng';

const SIZES = { eval: 300, coldStart: 2000, rlPrompts: 8000, corpus: 30000 };
const here = path.dirname(new URL(import.meta.url).pathname);

const jsonl = (records: object[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const rlRecord = (p: Problem) => ({ prompt: promptOf(p), answer: String(solve(p)), task: 'math' });

function trainingKeys(dir: string): Set<string> {
  const keys = new Set<string>();
  for (const f of ['cold-start.jsonl', 'rl-prompts.jsonl', 'eval.jsonl']) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const p = parsePrompt((JSON.parse(line) as { prompt: string }).prompt);
      if (p) keys.add(problemKey(p));
    }
  }
  for (const doc of fs.readFileSync(path.join(dir, 'corpus.txt'), 'utf8').split(/\n\s*\n/)) {
    const p = parsePrompt(doc.split('\n')[0]);
    if (p) keys.add(problemKey(p));
  }
  return keys;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      'fresh-eval': { type: 'string' },
      out: { type: 'string' },
      level: { type: 'string', default: '1' },
    },
  });
  const rng = new Rng(Number(values.seed));
  const level = LEVELS[Number(values.level)];
  if (!level) throw new Error(`--level: no level ${values.level} (have ${Object.keys(LEVELS).join(', ')})`);

  if (values['fresh-eval']) {
    const out = values.out ?? path.join(here, `eval-fresh-${values.seed}.jsonl`);
    const problems = drawProblems(rng, Number(values['fresh-eval']), trainingKeys(here), level);
    fs.writeFileSync(out, jsonl(problems.map(rlRecord)));
    console.log(`wrote ${problems.length} fresh eval problems to ${out}`);
    return;
  }

  const seen = new Set<string>();
  // Eval first, so every later draw excludes it.
  const evalSet = drawProblems(rng, SIZES.eval, seen, level);
  const evalKeys = new Set(seen);
  const coldStart = drawProblems(rng, SIZES.coldStart, seen, level);
  const rlPrompts = drawProblems(rng, SIZES.rlPrompts, seen, level);
  // The corpus may repeat problems (the x-by-one-digit space is small) but never an eval one.
  const corpus: string[] = [];
  while (corpus.length < SIZES.corpus) {
    const p = randomProblem(rng, level, weightedOp(rng));
    if (!evalKeys.has(problemKey(p))) corpus.push(corpusDocument(p));
  }

  fs.writeFileSync(path.join(here, 'eval.jsonl'), jsonl(evalSet.map(rlRecord)));
  fs.writeFileSync(
    path.join(here, 'cold-start.jsonl'),
    jsonl(coldStart.map((p) => ({ prompt: promptOf(p), completion: reasoningCompletion(p) }))),
  );
  fs.writeFileSync(path.join(here, 'rl-prompts.jsonl'), jsonl(rlPrompts.map(rlRecord)));
  fs.writeFileSync(path.join(here, 'corpus.txt'), corpus.join('\n\n') + '\n');
  fs.writeFileSync(path.join(here, 'general-sft.jsonl'), jsonl(generalSftRecords()));
  fs.writeFileSync(path.join(here, 'general-prompts.jsonl'), jsonl(generalPrompts()));
  // Its own stream, so the arithmetic files above stay the same whatever the general data draws.
  const pairs = preferencePairs(new Rng(Number(values.seed) * 7 + 3));
  fs.writeFileSync(path.join(here, 'preference.jsonl'), jsonl(pairs));
  console.log(
    `samples: ${evalSet.length} eval, ${coldStart.length} cold-start, ${rlPrompts.length} RL prompts, ${corpus.length} corpus documents, ${generalSftRecords().length} general SFT records and prompts, ${pairs.length} preference pairs`,
  );
}

main();
