// The standalone daemon (`r1 daemon --checkpoint DIR`): ready line, token file, the WebSocket
// stream and the OpenAI-compatible API, over real connections, with a tiny trained checkpoint.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { loadPipelineConfig } from '../../server/src/config/pipelineConfig';
import type { DaemonReadyLine, DaemonTokenFile, WsMessage } from '../../server/src/protocol/messages';
import { silentReporter } from '../../server/src/stages/context';
import { runPipeline } from '../../server/src/stages/pipeline';
import { testBackend } from '../helpers/backend';
import { type Daemon, readyLine, spawnDaemon, stopDaemon, tempWorkspace, writeTinyConfig } from './helpers/daemon';

// Bounds each test, so a daemon that stops answering fails the test instead of hanging the suite.
const LIMIT = { timeout: 90_000 };

let daemon: Daemon | undefined;
let workspace: string;
let ready: DaemonReadyLine;
let token: string;
let checkpoint: string;

before(async () => {
  workspace = tempWorkspace('http');
  // A tiny checkpoint to serve: 10 pretrain steps of the tiny model (a second or two on wasm).
  await testBackend();
  const config = loadPipelineConfig(writeTinyConfig(workspace, { pretrain: { steps: 10 } }));
  const runDir = path.join(workspace, 'runs', 'tiny');
  await runPipeline({ config, runDir, reporter: silentReporter }, ['pretrain']);
  checkpoint = path.join(runDir, 'pretrain', 'checkpoint');
  daemon = spawnDaemon(['--workspace', workspace, '--checkpoint', checkpoint]);
  ready = await readyLine(daemon);
  token = (JSON.parse(fs.readFileSync(ready.tokenFile, 'utf8')) as DaemonTokenFile).token;
}, LIMIT);

after(async () => {
  await stopDaemon(daemon);
  fs.rmSync(workspace, { recursive: true, force: true });
});

const auth = () => ({ Authorization: `Bearer ${token}` });
const post = (route: string, body: unknown, headers: Record<string, string> = auth()) =>
  fetch(`${ready.http}${route}`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** Opens a WebSocket and resolves with its first `count` messages, or with the HTTP refusal status. */
function wsConnect(url: string, headers: Record<string, string> = {}, count = 2): Promise<WsMessage[] | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const got: WsMessage[] = [];
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('message', (data) => {
      got.push(JSON.parse(String(data)) as WsMessage);
      if (got.length === count) {
        resolve(got);
        ws.close();
      }
    });
    ws.on('error', (err) => reject(err));
  });
}

test('ready line: loopback http and ws endpoints and the token file path', LIMIT, () => {
  assert.match(ready.http, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(ready.ws, `${ready.http.replace('http:', 'ws:')}/ws`);
  assert.equal(ready.tokenFile, path.join(workspace, '.r1', 'daemon.json'));
});

test('token file: mode 0600, holds the token and the endpoints', LIMIT, () => {
  assert.equal(fs.statSync(ready.tokenFile).mode & 0o777, 0o600);
  const info = JSON.parse(fs.readFileSync(ready.tokenFile, 'utf8')) as DaemonTokenFile;
  assert.ok(info.token.length >= 32);
  assert.equal(info.http, ready.http);
  assert.equal(info.pid, daemon!.child.pid);
});

test('WebSocket: refused (401) without or with a wrong token', LIMIT, async () => {
  assert.equal(await wsConnect(ready.ws), 401);
  assert.equal(await wsConnect(`${ready.ws}?token=nope`), 401);
  assert.equal(await wsConnect(`${ready.ws}`, { Authorization: 'Bearer nope' }), 401);
});

test('WebSocket: with the token, hello then replay (query or bearer header)', LIMIT, async () => {
  for (const [url, headers] of [
    [`${ready.ws}?token=${token}`, {}],
    [ready.ws, auth()],
  ] as const) {
    const msgs = await wsConnect(url, headers);
    assert.ok(Array.isArray(msgs), `refused with ${String(msgs)}`);
    assert.equal(msgs[0].type, 'hello');
    assert.equal(msgs[0].type === 'hello' && msgs[0].status.serving, checkpoint);
    assert.equal(msgs[1].type, 'replay');
    assert.ok(msgs[1].type === 'replay' && Array.isArray(msgs[1].metrics) && Array.isArray(msgs[1].events));
  }
});

test('HTTP API: 401 without or with a wrong bearer token', LIMIT, async () => {
  const none = await fetch(`${ready.http}/v1/models`);
  assert.equal(none.status, 401);
  assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'invalid_api_key');
  const wrong = await post('/v1/completions', { prompt: 'x' }, { Authorization: 'Bearer wrong' });
  assert.equal(wrong.status, 401);
});

test('GET /v1/models lists the served checkpoint', LIMIT, async () => {
  const res = await fetch(`${ready.http}/v1/models`, { headers: auth() });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { data: { id: string }[] };
  assert.deepEqual(
    body.data.map((m) => m.id),
    ['tiny/pretrain'],
  );
});

test('POST /v1/completions and /v1/chat/completions answer with text and usage', LIMIT, async () => {
  const res = await post('/v1/completions', { prompt: 'What is 2 + 3?', max_tokens: 8, temperature: 0 });
  assert.equal(res.status, 200);
  const body = (await res.json()) as {
    object: string;
    choices: { text: string; finish_reason: string }[];
    usage: { completion_tokens: number; prompt_tokens: number };
  };
  assert.equal(body.object, 'text_completion');
  assert.equal(typeof body.choices[0].text, 'string');
  assert.ok(body.usage.completion_tokens >= 1 && body.usage.completion_tokens <= 8);
  assert.ok(['stop', 'length'].includes(body.choices[0].finish_reason));

  const chat = await post('/v1/chat/completions', {
    messages: [{ role: 'user', content: 'What is 2 + 3?' }],
    max_tokens: 8,
    temperature: 0,
  });
  assert.equal(chat.status, 200);
  const chatBody = (await chat.json()) as { object: string; choices: { message: { role: string; content: string } }[] };
  assert.equal(chatBody.object, 'chat.completion');
  assert.equal(chatBody.choices[0].message.role, 'assistant');
  // Same prompt through the same chat template, greedy: the same completion.
  assert.equal(chatBody.choices[0].message.content, body.choices[0].text);
});

test('stream: true sends server-sent events ending with [DONE], same text as non-streamed', LIMIT, async () => {
  const request = { messages: [{ role: 'user', content: 'What is 7 * 8?' }], max_tokens: 12, temperature: 0 };
  const whole = (await (await post('/v1/chat/completions', request)).json()) as {
    choices: { message: { content: string } }[];
  };
  const res = await post('/v1/chat/completions', { ...request, stream: true });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const events = (await res.text()).split('\n\n').filter(Boolean);
  assert.equal(events[events.length - 1], 'data: [DONE]');
  const chunks = events.slice(0, -1).map((e) => {
    assert.ok(e.startsWith('data: '), e);
    return JSON.parse(e.slice(6)) as {
      object: string;
      choices: { delta: { content?: string }; finish_reason: string | null }[];
    };
  });
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
  assert.ok(chunks.length >= 3, 'role chunk, content chunks, finish chunk');
  assert.ok(chunks[chunks.length - 1].choices[0].finish_reason);
  const text = chunks.map((c) => c.choices[0].delta.content ?? '').join('');
  assert.equal(text, whole.choices[0].message.content);
});

test('bad requests: 400 with an OpenAI-style error, 404 unknown path, 405 wrong method', LIMIT, async () => {
  const notJson = await post('/v1/completions', '{nope');
  assert.equal(notJson.status, 400);
  assert.equal(((await notJson.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
  const noPrompt = await post('/v1/completions', { max_tokens: 3 });
  assert.equal(noPrompt.status, 400);
  assert.equal(((await noPrompt.json()) as { error: { param: string } }).error.param, 'prompt');
  const badTemp = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], temperature: -1 });
  assert.equal(badTemp.status, 400);
  assert.equal((await fetch(`${ready.http}/v1/nothing`, { headers: auth() })).status, 404);
  assert.equal((await fetch(`${ready.http}/v1/completions`, { headers: auth() })).status, 405);
});

test('SIGTERM: the daemon exits and removes its token file', LIMIT, async () => {
  daemon!.child.kill('SIGTERM');
  const code = await daemon!.exited;
  assert.equal(code, 0);
  assert.equal(fs.existsSync(ready.tokenFile), false);
});
