import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadRl, loadSft } from '../../server/src/data/loaders';
import { extractAnswer } from '../../server/src/rewards';
import {
  LEVELS,
  OPS,
  parsePrompt,
  Problem,
  problemKey,
  randomProblem,
  reasoningCompletion,
  solve,
  working,
} from '../../server/src/samples/arithmetic';
import { Rng } from '../../server/src/util/rng';

const SAMPLES = path.join(__dirname, '..', '..', 'samples');

/** Re-derives the result from the written working alone, checking every digit line. */
function checkWorking(p: Problem): void {
  const lines = working(p).split('\n');
  const width = lines[0].split(/[+\-*]/)[0].length;
  const [restatedA, restatedB] = lines[0].split(/[+\-*]/).map(Number);
  assert.deepEqual([restatedA, restatedB], [p.a, p.b], `first line restates the operands: ${lines[0]}`);
  const digitLines = lines.filter((l) => /^\d[-+*]\d[-+]\d=\d\d$/.test(l));
  assert.equal(digitLines.length, width, `one line per digit in:\n${lines.join('\n')}`);
  let carry = 0;
  const resultDigits: number[] = [];
  for (const line of digitLines) {
    const [, a, op, b, c, hi, lo] = /^(\d)([-+*])(\d)[-+](\d)=(\d)(\d)$/
      .exec(line)!
      .map((x, i) => (i === 2 ? x : Number(x))) as [unknown, number, string, number, number, number, number];
    assert.equal(c, carry, `carry in of ${line}`);
    const value = op === '+' ? a + b + c : op === '-' ? a - b - c : a * b + c;
    if (op === '-') assert.equal(lo - 10 * hi, value, line);
    else assert.equal(hi * 10 + lo, value, line);
    carry = hi;
    resultDigits.unshift(lo);
  }
  const last = lines[lines.length - 1];
  const sign = last.startsWith('-') ? -1 : 1;
  const assembled = Number(last.replace(/^[+-]/, ''));
  assert.equal(sign * assembled, solve(p), `final line of ${p.a}${p.op}${p.b}`);
  if (p.op !== '-') assert.equal(last, `${carry}${resultDigits.join('')}`);
}

test('the written working is correct digit by digit for random and edge-case problems', () => {
  const rng = new Rng(3);
  const edge: Problem[] = [
    { a: 0, b: 0, op: '+' },
    { a: 999, b: 999, op: '+' },
    { a: 0, b: 999, op: '-' },
    { a: 1000 - 1, b: 0, op: '-' },
    { a: 100, b: 1, op: '-' },
    { a: 999, b: 9, op: '*' },
    { a: 0, b: 7, op: '*' },
    { a: 5, b: 5, op: '-' },
  ];
  for (const p of edge) checkWorking(p);
  for (let i = 0; i < 3000; i++) checkWorking(randomProblem(rng, LEVELS[1], OPS[i % 3]));
});

test('reasoning completions follow the template and carry the right answer', () => {
  const p = { a: 347, b: 589, op: '-' } as Problem;
  const c = reasoningCompletion(p);
  assert.match(c, /^<think>\n[\s\S]*\n<\/think>\n<answer>-242<\/answer>$/);
  assert.equal(extractAnswer(c), '-242');
});

test('shipped samples: worked cold-start examples are correct and eval is disjoint from every training prompt', () => {
  const cold = loadSft(path.join(SAMPLES, 'cold-start.jsonl'));
  const rl = loadRl(path.join(SAMPLES, 'rl-prompts.jsonl'));
  const evalSet = loadRl(path.join(SAMPLES, 'eval.jsonl'));
  assert.ok(cold.length >= 1000 && rl.length > cold.length * 2, 'cold start is small next to the RL pool');
  for (const ex of cold) {
    const p = parsePrompt(ex.prompt as string)!;
    assert.ok(p, `family prompt: ${String(ex.prompt)}`);
    assert.equal(ex.completion, reasoningCompletion(p));
  }
  for (const ex of [...rl, ...evalSet]) assert.equal(ex.answer, String(solve(parsePrompt(ex.prompt as string)!)));
  const training = new Set([...cold, ...rl].map((ex) => problemKey(parsePrompt(ex.prompt as string)!)));
  for (const doc of fs.readFileSync(path.join(SAMPLES, 'corpus.txt'), 'utf8').split(/\n\s*\n/)) {
    const p = parsePrompt(doc.split('\n')[0]);
    if (p) training.add(problemKey(p));
  }
  for (const ex of evalSet)
    assert.ok(
      !training.has(problemKey(parsePrompt(ex.prompt as string)!)),
      `eval prompt ${String(ex.prompt)} is in training data`,
    );
  const ops = new Set(evalSet.map((ex) => parsePrompt(ex.prompt as string)!.op));
  assert.deepEqual([...ops].sort(), ['*', '+', '-']);
});
