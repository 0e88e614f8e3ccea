// Stage sft's data: the share of general records in every batch, and the accepted traces of a
// review file (with the errors that tell a user what to do when there are none).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { SftExample } from '../../server/src/data/records';
import { MixedSampler, ShareCounter } from '../../server/src/stages/mix';
import { acceptedTraces, mixedPairBatches } from '../../server/src/stages/sftStage';
import { Tokenizer } from '../../server/src/tokenizer/tokenizer';
import { Rng } from '../../server/src/util/rng';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-sft-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the share counter gives each batch the floor or ceiling of share x size, and the exact share over time', () => {
  for (const [share, size] of [
    [0.2, 16],
    [0.25, 8],
    [0.1, 4],
    [1 / 3, 5],
  ]) {
    const c = new ShareCounter(share);
    let total = 0;
    for (let b = 1; b <= 200; b++) {
      const n = c.next(size);
      assert.ok(n === Math.floor(share * size) || n === Math.ceil(share * size), `${share} x ${size}: ${n}`);
      total += n;
      assert.ok(Math.abs(total - share * size * b) <= 1, `running share of ${share} after ${b} batches: ${total}`);
    }
  }
  assert.equal(new ShareCounter(0).next(16), 0);
  assert.equal(new ShareCounter(1).next(16), 16);
  assert.equal(new ShareCounter(0.2).next(5), 1, '0.2 x 5 is one, not 0.999...');
  assert.throws(() => new ShareCounter(1.5), /share/);
});

test('mixed batches draw the configured share from the general pool, covering both pools', () => {
  const reasoning = Array.from({ length: 30 }, (_, i) => `r${i}`);
  const general = Array.from({ length: 7 }, (_, i) => `g${i}`);
  const sampler = new MixedSampler(reasoning, general, 0.25, new Rng(3));
  const seen = new Set<string>();
  let generalCount = 0;
  for (let b = 0; b < 40; b++) {
    const batch = sampler.next(16);
    assert.equal(batch.length, 16);
    const g = batch.filter((x) => x.startsWith('g')).length;
    assert.equal(g, 4, 'a quarter of 16');
    generalCount += g;
    batch.forEach((x) => seen.add(x));
  }
  assert.equal(generalCount, 160);
  assert.equal(seen.size, 37, 'every record of both pools is drawn');
  const positions = new Set<number>();
  for (let b = 0; b < 10; b++) sampler.next(16).forEach((x, i) => x.startsWith('g') && positions.add(i));
  assert.ok(positions.size > 8, 'general records are not always at the same positions');
  assert.throws(() => new MixedSampler(reasoning, [], 0.2, new Rng(1)), /no records to mix in/);
  assert.deepEqual(new MixedSampler(reasoning, [], 0, new Rng(1)).next(3).length, 3);
});

test('mixed pair batches hold prompt+completion rows with loss on completions only', () => {
  const tok = new Tokenizer();
  const ex = (prompt: string, completion: string, line: number): SftExample => ({ prompt, completion, line });
  const next = mixedPairBatches(
    [ex('What is 1 + 2?', '<think>\n1+2\n</think>\n<answer>3</answer>', 1)],
    [ex('What color is snow?', '<think>\nsnow: white\n</think>\n<answer>Snow is white.</answer>', 1)],
    0.5,
    4,
    tok,
    96,
    new Rng(1),
  );
  const batch = next();
  assert.equal(batch.inputs.length, 4);
  const texts = batch.inputs.map((row) => tok.decode(row));
  assert.equal(texts.filter((t) => t.includes('snow')).length, 2);
  const masked = batch.mask.map((m) => m.reduce((a, b) => a + b, 0));
  assert.ok(masked.every((n) => n > 0) && masked.every((n, i) => n < batch.inputs[i].length));
});

test('accepted traces: only status accepted, and a clear error naming the file when there are none', () => {
  const line = (status: string, completion = '<think>\n1+2\n</think>\n<answer>3</answer>') =>
    JSON.stringify({ prompt: 'What is 1 + 2?', completion, answer: '3', rewards: { accuracy: 1 }, status, source: {} });
  const mixed = path.join(tmp, 'mixed.jsonl');
  fs.writeFileSync(
    mixed,
    [line('accepted'), line('pending', '<think>\nx\n</think>\n<answer>3</answer>'), line('rejected', 'bad')].join('\n'),
  );
  const accepted = acceptedTraces(mixed);
  assert.equal(accepted.length, 1);
  assert.equal(accepted[0].completion, '<think>\n1+2\n</think>\n<answer>3</answer>');

  const pending = path.join(tmp, 'pending.jsonl');
  fs.writeFileSync(pending, [line('pending'), line('rejected', 'wrong')].join('\n'));
  assert.throws(
    () => acceptedTraces(pending),
    (err: Error) =>
      err.name === 'UserError' &&
      err.message.startsWith(pending) &&
      /no accepted traces.*1 pending, 1 rejected/.test(err.message) &&
      /autoAccept/.test(err.message),
  );
  const empty = path.join(tmp, 'empty.jsonl');
  fs.writeFileSync(empty, '');
  assert.throws(() => acceptedTraces(empty), /empty.jsonl: the review file is empty/);
  assert.throws(() => acceptedTraces(path.join(tmp, 'none.jsonl')), /none.jsonl: no review file.*rejection-sampling/);
});
