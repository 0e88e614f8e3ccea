// Fuzzing the OpenAI-compatible HTTP API of a real daemon (`r1 daemon --checkpoint`, on
// 127.0.0.1): random methods, paths, headers and bodies, wrong types per field, huge prompts,
// bad JSON, malformed HTTP and clients that hang up mid-stream. Every answer must be a 2xx or a
// 4xx with an OpenAI-style error body — never a 500, a hang or a crash — and the daemon must
// still answer afterwards.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { DaemonReadyLine, DaemonTokenFile } from '../../server/src/protocol/messages';
import { trainTinyCheckpoint } from '../integration/helpers/checkpoint';
import { type Daemon, readyLine, spawnDaemon, stopDaemon, tempWorkspace } from '../integration/helpers/daemon';

const LIMIT = { timeout: 120_000 };
// No answer within this is a hang.
const ANSWER_MS = 30_000;

let daemon: Daemon | undefined;
let workspace: string;
let ready: DaemonReadyLine;
let token: string;

const counts = new Map<string, number>();
const count = (target: string) => counts.set(target, (counts.get(target) ?? 0) + 1);

before(async () => {
  workspace = tempWorkspace('fuzz-openai');
  const checkpoint = await trainTinyCheckpoint(workspace, 2);
  daemon = spawnDaemon(['--workspace', workspace, '--checkpoint', checkpoint]);
  ready = await readyLine(daemon);
  token = (JSON.parse(fs.readFileSync(ready.tokenFile, 'utf8')) as DaemonTokenFile).token;
}, LIMIT);

after(async () => {
  for (const [target, n] of counts) console.log(`fuzz ${target}: ${n} cases`);
  await stopDaemon(daemon);
  fs.rmSync(workspace, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: string;
}

async function send(method: string, route: string, headers: Record<string, string>, body?: string | Uint8Array) {
  const res = await fetch(`${ready.http}${route}`, {
    method,
    headers,
    body: method === 'GET' || method === 'HEAD' ? undefined : body,
    signal: AbortSignal.timeout(ANSWER_MS),
  });
  return { status: res.status, body: await res.text() } satisfies Answer;
}

/** A 2xx, or a 4xx whose body is `{"error": {"message": str, "type": str, ...}}`. */
function assertClean(a: Answer, what: string): void {
  assert.ok(a.status < 500, `${what}: ${a.status} ${a.body.slice(0, 300)}\n${daemon?.stderr().slice(-2000)}`);
  if (a.status < 300) return;
  assert.ok(a.status >= 400, `${what}: ${a.status}`);
  let parsed: { error?: { message?: unknown; type?: unknown } };
  try {
    parsed = JSON.parse(a.body);
  } catch {
    assert.fail(`${what}: ${a.status} with a non-JSON body: ${a.body.slice(0, 200)}`);
  }
  assert.equal(typeof parsed.error?.message, 'string', `${what}: ${a.body.slice(0, 200)}`);
  assert.equal(typeof parsed.error?.type, 'string', `${what}: ${a.body.slice(0, 200)}`);
}

/** The daemon still answers a plain request, and its process is alive. */
async function assertServing(): Promise<void> {
  assert.equal(daemon!.child.exitCode, null, `daemon exited; stderr:\n${daemon!.stderr()}`);
  const a = await send('GET', '/v1/models', { Authorization: `Bearer ${token}` });
  assert.equal(a.status, 200, a.body);
}

// Values of every JSON type, with the numbers that break naive range checks.
const anyJson = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 31, 1e300, -0, '', 'x', [], {}, [null], ['a', 'b'], [1]),
  fc.jsonValue({ maxDepth: 2 }),
);
/** Mostly a valid value (so requests get past validation and reach the sampler), else any JSON. */
const mostly = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: valid as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: anyJson });
const message = mostly(
  fc.oneof(
    fc.record({
      role: fc.constantFrom('user', 'system', 'assistant', 'developer'),
      content: fc.string({ maxLength: 30 }),
    }),
    fc.record({
      role: fc.constant('user'),
      content: fc.array(fc.record({ type: fc.constant('text'), text: fc.string() })),
    }),
  ),
);
const requestBody = fc.record(
  {
    model: mostly(fc.constant('tiny/pretrain')),
    prompt: mostly(fc.oneof(fc.string({ maxLength: 30 }), fc.constant(['What is 1 + 1?']))),
    messages: mostly(fc.array(message, { minLength: 1, maxLength: 3 })),
    // Small limits keep generation cheap; wrong types and huge values come from anyJson.
    max_tokens: mostly(fc.integer({ min: 1, max: 4 })),
    temperature: mostly(fc.double({ min: 0, max: 2, noNaN: true })),
    top_p: mostly(fc.double({ min: 0, max: 1, noNaN: true })),
    n: mostly(fc.constant(1)),
    stream: mostly(fc.boolean()),
    stream_options: mostly(fc.record({ include_usage: fc.boolean() })),
    seed: mostly(fc.integer()),
    stop: anyJson,
  },
  { requiredKeys: [] },
);

const route = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('/v1/completions', '/v1/chat/completions', '/v1/chat/completions/') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '/v1/models',
      '/',
      '/v1',
      '/v1/../v1/models',
      '//v1/completions',
      '/v1/completions?x=%00',
      '/%ff',
      '/ws',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((s) => `/${encodeURIComponent(s)}`) },
);

// Cap on sampled requests: the tiny model is fast, but the CPU is shared.
const bodyText = fc.oneof(
  { weight: 8, arbitrary: requestBody.map((b) => JSON.stringify({ max_tokens: 3, ...b })) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{',
      '{"prompt": "a",}',
      '{"prompt": "\\ud800"}',
      'null',
      '[]',
      '"x"',
      '{"__proto__": {"stream": true}}',
      '',
    ),
  },
);

test(
  'fuzz openai API: random requests get a 2xx or a 4xx with an OpenAI-style error, never a 500 or a hang',
  LIMIT,
  async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST', 'POST', 'POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE'),
        route,
        bodyText,
        fc.constantFrom('good', 'good', 'good', 'good', 'none', 'wrong', 'lowercase scheme'),
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
        async (method, path, body, auth, type) => {
          count('openai API (random requests)');
          const headers: Record<string, string> = { 'Content-Type': type };
          if (auth === 'good') headers.Authorization = `Bearer ${token}`;
          if (auth === 'wrong') headers.Authorization = `Bearer ${token.slice(0, -1)}x`;
          if (auth === 'lowercase scheme') headers.Authorization = `bearer ${token}`;
          const a = await send(method, path, headers, body);
          assertClean(a, `${method} ${path} ${body.slice(0, 200)}`);
          if (auth === 'none' || auth === 'wrong') assert.equal(a.status, 401);
          statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        },
      ),
      { numRuns: 150, seed: 41 },
    );
    console.log(`fuzz openai API statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
    // The generator must reach the sampler too, not only the validation.
    assert.ok((statuses.get(200) ?? 0) >= 5, 'some requests were valid and sampled');
    await assertServing();
  },
);

test('fuzz openai API: huge prompts and bodies get a 4xx (or a completion), never a 500', LIMIT, async () => {
  const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const cases: [string, string][] = [
    ['prompt filling the context', JSON.stringify({ prompt: 'What is 1 + 1? '.repeat(5000), max_tokens: 2 })],
    ['900 KB prompt', JSON.stringify({ prompt: 'x'.repeat(900_000), max_tokens: 2 })],
    [
      '900 KB chat message',
      JSON.stringify({ messages: [{ role: 'user', content: '七'.repeat(300_000) }], max_tokens: 2 }),
    ],
    [
      '10k messages',
      JSON.stringify({
        messages: Array.from({ length: 10_000 }, () => ({ role: 'user', content: 'hi' })),
        max_tokens: 2,
      }),
    ],
    ['body over 1 MB', JSON.stringify({ prompt: 'x'.repeat(1_200_000) })],
    ['deeply nested body', `{"prompt": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
    ['max_tokens 1e300', JSON.stringify({ prompt: 'hi', max_tokens: 1e300 })],
    ['seed 1e300', JSON.stringify({ prompt: 'hi', max_tokens: 2, seed: 1e300 })],
  ];
  for (const [label, body] of cases) {
    for (const path of ['/v1/completions', '/v1/chat/completions']) {
      count('openai API (huge prompts and bodies)');
      assertClean(await send('POST', path, auth, body), `${label} to ${path}`);
    }
  }
  await assertServing();
});

/** Writes raw bytes to the server and resolves with what came back before it closed (or a timeout). */
function raw(bytes: string, waitMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(ready.http.split(':').pop() as unknown as number, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => (got += String(d)));
    socket.on('error', () => resolve(got));
    socket.on('close', () => resolve(got));
    socket.write(bytes);
    setTimeout(() => {
      socket.destroy();
      resolve(got);
    }, waitMs).unref();
  });
}

test('fuzz openai API: malformed HTTP and clients that hang up do not hurt the daemon', LIMIT, async () => {
  const port = Number(new URL(ready.http).port);
  assert.ok(port > 0);
  await fc.assert(
    fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 80 }), async (garbage) => {
      count('openai API (malformed HTTP)');
      const answer = await raw(garbage, 150);
      // Node answers a parse error with 400 or just closes; it must never be a 5xx.
      assert.doesNotMatch(answer, /^HTTP\/1\.1 5/);
    }),
    { numRuns: 25, seed: 42 },
  );
  // A request line with a huge header, and a body shorter than its Content-Length (the client stalls).
  count('openai API (malformed HTTP)');
  assert.doesNotMatch(await raw(`GET /v1/models HTTP/1.1\r\nX: ${'a'.repeat(100_000)}\r\n\r\n`), /^HTTP\/1\.1 5/);
  count('openai API (malformed HTTP)');
  const stalled = raw(
    `POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 1000\r\n\r\n{"prompt"`,
    1500,
  );
  // While that client stalls, others are served.
  await assertServing();
  await stalled;

  // Streams whose client hangs up after the first chunk.
  for (let i = 0; i < 5; i++) {
    count('openai API (client hangs up mid-stream)');
    const controller = new AbortController();
    const res = await fetch(`${ready.http}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'What is 2 + 2?' }], max_tokens: 40, stream: true }),
      signal: controller.signal,
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.read().catch(() => undefined);
  }
  await assertServing();
});
