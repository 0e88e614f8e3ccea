// Damaged checkpoints: a truncated or bit-flipped weights file, broken JSON, a damaged optimizer
// file. Each is detected before loading (a size/SHA-256 manifest is saved with the checkpoint),
// the previous good checkpoint is used instead with a warning, and without one the error says
// what is wrong and where.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import {
  checkpointExists,
  loadCheckpoint,
  readState,
  saveCheckpoint,
  setCheckpointWarningHandler,
  TrainState,
} from '../../server/src/checkpoint/checkpoint';
import { checkpointProblems, MANIFEST } from '../../server/src/checkpoint/integrity';
import { presetConfig } from '../../server/src/model/config';
import { GPT } from '../../server/src/model/gpt';
import { Tokenizer } from '../../server/src/tokenizer/tokenizer';
import { AdamW, DEFAULT_ADAMW } from '../../server/src/train/optimizer';
import { UserError } from '../../server/src/util/errors';
import { testBackend } from '../helpers/backend';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-ckpt-'));
let model: GPT;
let tokenizer: Tokenizer;
let optimizer: AdamW;
const warnings: string[] = [];
let restoreWarn: (m: string) => void;

before(async () => {
  await testBackend();
  tokenizer = new Tokenizer();
  model = new GPT(presetConfig('tiny', tokenizer.vocabSize), 1);
  optimizer = new AdamW(model.params, DEFAULT_ADAMW);
  restoreWarn = setCheckpointWarningHandler((m) => warnings.push(m));
});
after(() => {
  setCheckpointWarningHandler(restoreWarn);
  optimizer.dispose();
  model.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  warnings.length = 0;
});

const state = (step: number): TrainState => ({
  stage: 'pretrain',
  step,
  totalSteps: 10,
  done: false,
  seed: 1,
  rngState: 7,
  optimizer: null,
  optimizerStep: 0,
});

let caseNo = 0;
/** A checkpoint folder saved twice (steps 5 then 10), so `.prev` holds step 5. */
async function twoSaves(): Promise<string> {
  const dir = path.join(tmp, `run-${caseNo++}`, 'checkpoint');
  await saveCheckpoint(dir, model, tokenizer, state(5), optimizer);
  await saveCheckpoint(dir, model, tokenizer, state(10), optimizer);
  return dir;
}

function truncate(file: string, keep = 0.5): void {
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * keep)));
}

function flipByte(file: string): void {
  const bytes = fs.readFileSync(file);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  fs.writeFileSync(file, bytes);
}

const loads = (dir: string) => {
  const loaded = loadCheckpoint(dir);
  loaded.model.dispose();
  return loaded.state.step;
};

test('a saved checkpoint has a manifest of every file and keeps the previous one beside it', async () => {
  const dir = await twoSaves();
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8'));
  for (const name of ['model.json', 'weights.bin', 'tokenizer.json', 'config.json', 'state.json', 'optimizer.bin']) {
    assert.equal(manifest.files[name].bytes, fs.statSync(path.join(dir, name)).size, name);
    assert.match(manifest.files[name].sha256, /^[0-9a-f]{64}$/);
  }
  assert.deepEqual(checkpointProblems(dir), []);
  assert.equal(readState(`${dir}.prev`).step, 5);
  assert.equal(loads(dir), 10);
  assert.deepEqual(warnings, []);
});

// Each way a file gets damaged, and what the warning must say about it.
const DAMAGE: [string, (dir: string) => void, RegExp][] = [
  ['truncated weights.bin', (d) => truncate(path.join(d, 'weights.bin')), /weights\.bin is truncated/],
  ['empty weights.bin', (d) => truncate(path.join(d, 'weights.bin'), 0), /weights\.bin is truncated/],
  ['bit flip in weights.bin', (d) => flipByte(path.join(d, 'weights.bin')), /weights\.bin is corrupted/],
  ['truncated model.json', (d) => truncate(path.join(d, 'model.json')), /model\.json is truncated/],
  ['broken state.json', (d) => fs.writeFileSync(path.join(d, 'state.json'), '{"step": 1'), /state\.json/],
  ['missing tokenizer.json', (d) => fs.rmSync(path.join(d, 'tokenizer.json')), /tokenizer\.json is missing/],
  ['bit flip in optimizer.bin', (d) => flipByte(path.join(d, 'optimizer.bin')), /optimizer\.bin is corrupted/],
];

for (const [label, damage, says] of DAMAGE) {
  test(`${label}: detected, and the previous checkpoint is used with a warning`, async () => {
    const dir = await twoSaves();
    damage(dir);
    assert.ok(checkpointProblems(dir).length > 0, 'the damage is detected');
    assert.equal(checkpointExists(dir), true);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], says);
    assert.match(warnings[0], /previous checkpoint \(step 5\)/);
    assert.equal(loads(dir), 5);
    assert.ok(fs.existsSync(`${dir}.damaged`), 'the damaged copy is kept for inspection');
    assert.equal(fs.existsSync(`${dir}.prev`), false);
  });
}

test('without a previous checkpoint, loading a damaged one is a UserError naming the folder and the file', async () => {
  const dir = await twoSaves();
  fs.rmSync(`${dir}.prev`, { recursive: true });
  truncate(path.join(dir, 'weights.bin'));
  assert.throws(
    () => loadCheckpoint(dir),
    (err: unknown) =>
      err instanceof UserError &&
      err.message.startsWith(dir) &&
      /weights\.bin is truncated: \d+ bytes, expected \d+/.test(err.message) &&
      /no intact previous checkpoint/.test(err.message),
  );
  assert.deepEqual(warnings, []);
});

test('when the previous checkpoint is damaged too, neither is used', async () => {
  const dir = await twoSaves();
  flipByte(path.join(dir, 'weights.bin'));
  flipByte(path.join(`${dir}.prev`, 'weights.bin'));
  assert.throws(() => loadCheckpoint(dir), /weights\.bin is corrupted/);
  assert.equal(readState(`${dir}.prev`).step, 5, 'the previous one is left where it was');
});

test('a checkpoint without a manifest (older format) still has its weights size checked', async () => {
  const dir = await twoSaves();
  fs.rmSync(path.join(dir, MANIFEST));
  fs.rmSync(`${dir}.prev`, { recursive: true });
  assert.equal(loads(dir), 10, 'an intact older checkpoint loads');
  truncate(path.join(dir, 'weights.bin'), 0.9);
  assert.throws(() => loadCheckpoint(dir), /weights\.bin: \d+ bytes, but model\.json describes \d+/);
});

test('a crash mid-save leaves the last checkpoint usable and its temp folder is cleaned up later', async () => {
  const dir = await twoSaves();
  // What kill -9 leaves: the new copy half-written in a temp folder of a dead process, and the
  // current one moved aside as `.old` just before the swap.
  const deadTemp = `${dir}.tmp-999999`;
  fs.mkdirSync(deadTemp);
  fs.writeFileSync(path.join(deadTemp, 'weights.bin'), 'partial');
  fs.renameSync(dir, `${dir}.old`);
  assert.equal(checkpointExists(dir), true);
  assert.equal(loads(dir), 10);
  await saveCheckpoint(dir, model, tokenizer, state(15), optimizer);
  assert.equal(fs.existsSync(deadTemp), false, 'stale temp folder removed');
  assert.equal(readState(`${dir}.prev`).step, 10);
});
