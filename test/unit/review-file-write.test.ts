// How rejection sampling writes its review file: whole, and never over a review file that
// appeared while the stage sampled (it may hold a person's accepts): that one stays byte for
// byte, the new traces go beside it, and the stage fails naming both.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { writeReviewFile } from '../../server/src/stages/rejectionSampling';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-review-write-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const TRACES = '{"prompt":"p","completion":"c","rewards":{},"status":"pending","source":{}}\n';

test('writes a new review file whole and leaves no temp file', () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'new-'));
  const file = path.join(dir, 'review.jsonl');
  writeReviewFile(file, TRACES);
  assert.equal(fs.readFileSync(file, 'utf8'), TRACES);
  assert.deepEqual(fs.readdirSync(dir), ['review.jsonl']);
});

test('a review file that appeared meanwhile is kept; the new traces go beside it', () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'taken-'));
  const file = path.join(dir, 'review.jsonl');
  const reviewed = TRACES.replace('pending', 'accepted');
  fs.writeFileSync(file, reviewed);
  assert.throws(
    () => writeReviewFile(file, TRACES),
    (err: Error) => err.name === 'UserError' && err.message.includes(file) && /left as it is/.test(err.message),
  );
  assert.equal(fs.readFileSync(file, 'utf8'), reviewed, 'the reviewed file is untouched');
  const others = fs.readdirSync(dir).filter((n) => n !== 'review.jsonl');
  assert.equal(others.length, 1, `one file beside it, no temp left: ${others.join(', ')}`);
  assert.match(others[0], /^review\.\d{4}-.*\.jsonl$/);
  assert.equal(fs.readFileSync(path.join(dir, others[0]), 'utf8'), TRACES, 'no sampled trace is lost');
});
