// The general data of stages sft, reward-model and rl-all: shipped files match the generator,
// every record fits the small preset's context, and the preference pairs teach what they claim.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadPreference, loadRl, loadSft } from '../../server/src/data/loaders';
import { PRESETS } from '../../server/src/model/config';
import { strictFormat } from '../../server/src/rewards';
import { generalPrompts, generalSftRecords, preferencePairs, REJECTION_STYLES } from '../../server/src/samples/general';
import { encodeCompletion, encodePrompt } from '../../server/src/tokenizer/chatTemplate';
import { Tokenizer } from '../../server/src/tokenizer/tokenizer';
import { Rng } from '../../server/src/util/rng';

const SAMPLES = path.join(__dirname, '..', '..', 'samples');
const jsonl = (records: object[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const tok = new Tokenizer();
const tokens = (prompt: string, reply: string) =>
  encodePrompt(tok, prompt).length + encodeCompletion(tok, reply).length;

test('the shipped general files are what the generator writes (npm run samples, seed 1)', () => {
  assert.equal(fs.readFileSync(path.join(SAMPLES, 'general-sft.jsonl'), 'utf8'), jsonl(generalSftRecords()));
  assert.equal(fs.readFileSync(path.join(SAMPLES, 'general-prompts.jsonl'), 'utf8'), jsonl(generalPrompts()));
  assert.equal(
    fs.readFileSync(path.join(SAMPLES, 'preference.jsonl'), 'utf8'),
    jsonl(preferencePairs(new Rng(1 * 7 + 3))),
  );
  assert.equal(loadSft(path.join(SAMPLES, 'general-sft.jsonl')).length, generalSftRecords().length);
  assert.ok(loadRl(path.join(SAMPLES, 'general-prompts.jsonl')).every((r) => r.task === 'general' && r.answer === ''));
  assert.equal(loadPreference(path.join(SAMPLES, 'preference.jsonl')).length, preferencePairs(new Rng(10)).length);
});

test('every general record and pair fits the small preset context whole, end-of-sequence included', () => {
  const limit = PRESETS.small.contextLength;
  for (const r of generalSftRecords()) assert.ok(tokens(r.prompt, r.completion) <= limit, r.prompt);
  for (const p of preferencePairs(new Rng(1))) {
    assert.ok(tokens(p.prompt, p.chosen) <= limit, `${p.prompt} chosen`);
    assert.ok(tokens(p.prompt, p.rejected) <= limit, `${p.prompt} rejected`);
  }
});

test('preference pairs: distinct prompts, a well-formed chosen reply, every rejection style used', () => {
  const pairs = preferencePairs(new Rng(1));
  assert.equal(new Set(pairs.map((p) => p.prompt)).size, pairs.length);
  assert.ok(pairs.every((p) => p.chosen !== p.rejected && strictFormat(p.chosen) === 1));
  const styles = Object.keys(REJECTION_STYLES);
  const counts = new Map(styles.map((s) => [s, 0]));
  const items = generalSftRecords().length;
  // Attribute each rejected reply to the style that produces it.
  for (const p of pairs) {
    const base = generalSftRecords().find((r) => r.completion === p.chosen);
    assert.ok(base, `chosen is a general SFT reply: ${p.chosen}`);
  }
  for (const p of pairs) {
    if (p.rejected.includes('I do not know')) counts.set('refusal', counts.get('refusal')! + 1);
    else if (!p.rejected.includes('<think>')) counts.set('untemplated', counts.get('untemplated')! + 1);
    else if (/\p{Script=Han}/u.test(p.rejected)) counts.set('other-script', counts.get('other-script')! + 1);
  }
  for (const s of ['refusal', 'untemplated', 'other-script']) assert.ok(counts.get(s)! > items / 10, `${s} used`);
});
