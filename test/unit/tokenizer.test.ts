import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeCompletion, encodePrompt } from '../../server/src/tokenizer/chatTemplate';
import { StreamingDecoder, Tokenizer } from '../../server/src/tokenizer/tokenizer';

const tok = new Tokenizer();

test('round-trips English, Chinese, emoji and mixed text', () => {
  for (const text of [
    'What is 347 + 589?',
    '我们先算个位：七加九等于十六。',
    'rocket 🚀 and family 👨‍👩‍👧 emoji',
    'mixed 中文 and English ✓\n\ttabs',
    '',
  ]) {
    assert.equal(tok.decode(tok.encode(text)), text);
  }
});

test('special tokens are single ids and round-trip', () => {
  const text = '<think>\n1+2\n</think>\n<answer>3</answer>';
  const ids = tok.encode(text);
  assert.equal(ids[0], tok.id('<think>'));
  assert.equal(ids.filter((i) => tok.isSpecial(i)).length, 4);
  assert.equal(tok.decode(ids), text);
});

test('bytes use ids below 256 and the vocabulary covers every special token', () => {
  const ids = tok.encode('é');
  assert.deepEqual(ids, [0xc3, 0xa9]);
  assert.equal(tok.vocabSize, 256 + 9);
  assert.ok(tok.eos < tok.vocabSize && tok.pad < tok.vocabSize);
});

test('tokenizer.json round-trips and rejects a foreign tokenizer', () => {
  const again = Tokenizer.fromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
  assert.deepEqual(again.encode('<answer>42</answer>'), tok.encode('<answer>42</answer>'));
  assert.throws(() => Tokenizer.fromJSON({ ...tok.toJSON(), vocabSize: 10 }), /unsupported tokenizer/);
});

test('chat template: prompt ends with the assistant token, completion with eos', () => {
  const p = encodePrompt(tok, 'What is 1 + 2?');
  assert.equal(p[0], tok.id('<|user|>'));
  assert.equal(p[p.length - 1], tok.id('<|assistant|>'));
  const c = encodeCompletion(tok, '<answer>3</answer>');
  assert.equal(c[c.length - 1], tok.eos);
  const conv = encodePrompt(tok, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
  ]);
  assert.equal(tok.decode(conv), '<|system|>Be brief.<|user|>Hi<|assistant|>');
});

test('streaming decoder holds back incomplete UTF-8 sequences', () => {
  const dec = new StreamingDecoder(tok);
  const ids = tok.encode('a中🚀');
  const pieces = ids.map((id) => dec.push(id));
  assert.equal(pieces.join('') + dec.flush(), 'a中🚀');
  assert.ok(!pieces.join('').includes('\uFFFD'));
});
