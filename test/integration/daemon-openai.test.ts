// The official `openai` npm package against the standalone daemon: what users of the
// OpenAI-compatible API actually run. The SDK parses responses and server-sent events itself,
// so a shape it does not accept (a missing field, a malformed stream) fails here.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import type { DaemonReadyLine, DaemonTokenFile } from '../../server/src/protocol/messages';
import { TINY_MODEL_ID, trainTinyCheckpoint } from './helpers/checkpoint';
import { type Daemon, readyLine, spawnDaemon, stopDaemon, tempWorkspace } from './helpers/daemon';

// Bounds each test, so a daemon that stops answering fails the test instead of hanging the suite.
const LIMIT = { timeout: 90_000 };

let daemon: Daemon | undefined;
let workspace: string;
let ready: DaemonReadyLine;
let client: OpenAI;

// No retries: a failure should show the daemon's first answer, not the third.
const clientWith = (apiKey: string) =>
  new OpenAI({ baseURL: `${ready.http}/v1`, apiKey, maxRetries: 0, timeout: 60_000 });

before(async () => {
  workspace = tempWorkspace('openai');
  const checkpoint = await trainTinyCheckpoint(workspace);
  daemon = spawnDaemon(['--workspace', workspace, '--checkpoint', checkpoint]);
  ready = await readyLine(daemon);
  const { token } = JSON.parse(fs.readFileSync(ready.tokenFile, 'utf8')) as DaemonTokenFile;
  client = clientWith(token);
}, LIMIT);

after(async () => {
  await stopDaemon(daemon);
  fs.rmSync(workspace, { recursive: true, force: true });
});

const request = {
  model: TINY_MODEL_ID,
  messages: [{ role: 'user' as const, content: 'What is 7 * 8?' }],
  max_tokens: 12,
  temperature: 0,
};

test('models.list() lists the served checkpoint', LIMIT, async () => {
  const models = [];
  for await (const m of client.models.list()) models.push(m);
  assert.deepEqual(
    models.map((m) => [m.id, m.object]),
    [[TINY_MODEL_ID, 'model']],
  );
  assert.equal(typeof models[0].created, 'number');
  assert.equal(typeof models[0].owned_by, 'string');
});

test('chat.completions.create: an OpenAI-shaped completion with usage', LIMIT, async () => {
  const c = await client.chat.completions.create(request);
  assert.match(c.id, /^chatcmpl-/);
  assert.equal(c.object, 'chat.completion');
  assert.equal(c.model, TINY_MODEL_ID);
  assert.ok(Number.isInteger(c.created) && Math.abs(c.created - Date.now() / 1000) < 600, `created ${c.created}`);
  assert.equal(c.choices.length, 1);
  const [choice] = c.choices;
  assert.equal(choice.index, 0);
  assert.equal(choice.message.role, 'assistant');
  assert.equal(typeof choice.message.content, 'string');
  assert.equal(choice.message.refusal, null);
  assert.ok(['stop', 'length'].includes(choice.finish_reason), choice.finish_reason);
  const usage = c.usage!;
  assert.ok(usage.prompt_tokens > 0);
  assert.ok(usage.completion_tokens >= 1 && usage.completion_tokens <= request.max_tokens);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
});

test('stream: true yields chunks whose deltas concatenate to the greedy completion', LIMIT, async () => {
  const whole = await client.chat.completions.create(request);
  const stream = await client.chat.completions.create({
    ...request,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  const finishes: string[] = [];
  let role: string | undefined;
  let usage: OpenAI.CompletionUsage | undefined;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.match(chunk.id, /^chatcmpl-/);
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(chunk.model, TINY_MODEL_ID);
    // include_usage: every chunk has the field, null until the extra last one (as OpenAI sends it).
    assert.ok(chunk.usage !== undefined && usage === undefined, 'usage only on the last chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      role ??= c.delta.role ?? undefined;
      text += c.delta.content ?? '';
      if (c.finish_reason) finishes.push(c.finish_reason);
    }
  }
  assert.ok(chunks >= 3, `role chunk, content chunks, finish chunk (got ${chunks})`);
  assert.equal(role, 'assistant');
  assert.deepEqual(finishes, [whole.choices[0].finish_reason]);
  assert.equal(text, whole.choices[0].message.content);
  assert.deepEqual(usage, whole.usage);
});

// The SDK's stream helper rebuilds a whole completion from the chunks and rejects streams that
// lack what it needs (a role, a finish reason, consistent ids), so it is the stricter check.
test('chat.completions.stream(): finalChatCompletion() matches the plain completion', LIMIT, async () => {
  const whole = await client.chat.completions.create(request);
  const stream = client.chat.completions.stream(request);
  const deltas: string[] = [];
  stream.on('content', (delta) => deltas.push(delta));
  const final = await stream.finalChatCompletion();
  assert.equal(final.choices[0].message.role, 'assistant');
  assert.equal(final.choices[0].message.content, whole.choices[0].message.content);
  assert.equal(final.choices[0].finish_reason, whole.choices[0].finish_reason);
  assert.equal(deltas.join(''), whole.choices[0].message.content);
});

test('completions.create (legacy endpoint) answers with the same greedy text', LIMIT, async () => {
  const c = await client.completions.create({
    model: TINY_MODEL_ID,
    prompt: 'What is 7 * 8?',
    max_tokens: 12,
    temperature: 0,
  });
  assert.equal(c.object, 'text_completion');
  assert.match(c.id, /^cmpl-/);
  const chat = await client.chat.completions.create(request);
  // The same prompt goes through the same chat template either way.
  assert.equal(c.choices[0].text, chat.choices[0].message.content);
});

test('a wrong API key: OpenAI.AuthenticationError (401, invalid_api_key)', LIMIT, async () => {
  const wrong = clientWith('not-the-token');
  await assert.rejects(wrong.models.list(), (err: unknown) => {
    assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_api_key');
    return true;
  });
  await assert.rejects(wrong.chat.completions.create(request), OpenAI.AuthenticationError);
});

test('a bad parameter: OpenAI.BadRequestError naming it', LIMIT, async () => {
  await assert.rejects(client.chat.completions.create({ ...request, n: 2 }), (err: unknown) => {
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.param, 'n');
    return true;
  });
});
