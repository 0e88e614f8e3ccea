import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { codeReward, RewardSet, runInSandbox } from '../../server/src/rewards';

// Sandbox temp dirs go under a directory of this test's own (os.tmpdir() follows TMPDIR), so
// the clean-up check below cannot be confused by other processes.
const TMP = mkdtempSync(path.join(os.tmpdir(), 'r1-code-reward-test-'));
process.env.TMPDIR = TMP;
after(() => rmSync(TMP, { recursive: true, force: true }));

const FAST = { timeoutMs: 3000, testTimeoutMs: 500 };
const answer = (code: string) => `<think>\nwrite add\n</think>\n<answer>\n\`\`\`js\n${code}\n\`\`\`\n</answer>`;

test('code reward: share of tests passed (2 of 3)', async () => {
  const r = await codeReward(
    answer('function add(a, b) { return a + b; }'),
    ['add(1, 2) === 3', 'add(2, 2) === 5', 'assert.strictEqual(add(-1, 1), 0)'],
    FAST,
  );
  assert.equal(r.score, 2 / 3);
  assert.deepEqual(
    r.tests.map((t) => t.pass),
    [true, false, true],
  );
  assert.equal(r.reason, undefined);
});

test('code reward: test formats — expression, assertion, statements, return, await', async () => {
  const r = await runInSandbox(
    'const sq = (x) => x * x;\nasync function later(x) { return x; }',
    [
      'sq(3) === 9',
      'assert.equal(sq(2), 4)',
      'const r = sq(4); r === 16',
      'const r = sq(4); r === 17', // last expression statement false -> fails
      'return sq(1) === 1',
      'await later(1); return (await later(2)) === 2',
      'later(5).then((v) => v === 5)',
      'assert.equal(sq(2), 5)', // throws -> fails
      'sq(0)', // falsy -> fails
    ],
    FAST,
  );
  assert.deepEqual(
    r.tests.map((t) => t.pass),
    [true, true, true, false, true, true, true, false, false],
  );
});

test('code reward: CommonJS exports and ES export syntax are accepted', async () => {
  const cjs = await codeReward(answer('module.exports = { twice: (x) => 2 * x };'), ['twice(4) === 8'], FAST);
  assert.equal(cjs.score, 1);
  const esm = await codeReward(
    answer('export function inc(x) { return x + 1; }\nexport const one = 1;'),
    ['inc(one) === 2'],
    FAST,
  );
  assert.equal(esm.score, 1);
});

test('code reward: missing or broken code scores 0 with a reason, never throws', async () => {
  const none = await codeReward('<answer>42</answer>', ['true'], FAST);
  assert.equal(none.score, 0);
  assert.match(none.reason ?? '', /no ```js code block/);
  const python = await codeReward('```python\ndef add(a, b): return a + b\n```', ['true'], FAST);
  assert.equal(python.score, 0);
  const syntax = await codeReward(answer('function add(a, b) { return a + '), ['true'], FAST);
  assert.equal(syntax.score, 0);
  assert.match(syntax.reason ?? '', /code failed: SyntaxError/);
  const crash = await codeReward(answer('null.x;'), ['true'], FAST);
  assert.equal(crash.score, 0);
  assert.match(crash.reason ?? '', /code failed: TypeError/);
  const exits = await codeReward(answer('process.exit(0);'), ['true'], FAST);
  assert.equal(exits.score, 0);
  assert.match(exits.reason ?? '', /ended the process/);
});

test('code reward: an infinite loop is stopped by the time limit', async () => {
  const started = Date.now();
  const top = await codeReward(answer('while (true) {}'), ['true'], FAST);
  assert.equal(top.score, 0);
  assert.match(top.reason ?? '', /timed out/);
  // A loop inside a test: that test fails, the others still count.
  const inTest = await codeReward(
    answer('function spin() { for (;;) {} }\nconst ok = () => true;'),
    ['spin()', 'ok()'],
    FAST,
  );
  assert.deepEqual(
    inTest.tests.map((t) => t.pass),
    [false, true],
  );
  // A loop in a timer blocks the whole process: killed at the wall-clock limit, score so far kept.
  const timer = await codeReward(
    answer('setTimeout(() => { for (;;) {} }, 0);\nconst one = 1;'),
    ['one === 1', 'new Promise((r) => setTimeout(() => r(true), 50))'],
    { timeoutMs: 1500, testTimeoutMs: 500 },
  );
  assert.equal(timer.score, 0.5);
  assert.match(timer.reason ?? '', /timed out after 1500 ms/);
  assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`);
});

test('code reward: no writes outside the temp dir, no network, no processes', async () => {
  const outside = path.join(TMP, `escape-${process.pid}.txt`); // TMP is the sandbox dir's parent
  const code = [
    `function writeOutside() { require('fs').writeFileSync(${JSON.stringify(outside)}, 'x'); return true; }`,
    "function writeTmp() { require('fs').writeFileSync('/tmp/x', 'x'); return true; }",
    "function writeInside() { require('fs').writeFileSync('scratch.txt', 'ok'); return require('fs').readFileSync('scratch.txt', 'utf8') === 'ok'; }",
    "function readSecret() { return require('fs').readFileSync('/etc/passwd', 'utf8').length > 0; }",
    "function http() { return typeof require('http').get === 'function'; }",
    "function net() { return typeof require('node:net').connect === 'function'; }",
    "function useFetch() { return fetch('http://127.0.0.1:9/').then(() => true); }",
    "function spawnShell() { return require('child_process').execSync('id').length > 0; }",
    'function killParent() { process.kill(process.ppid, 0); return true; }',
    // Routes around require: the module class via process.mainModule, a socket class via stderr.
    "function viaImport() { const M = process.mainModule.constructor; const m = new M('x'); m._compile('module.exports = import(\"node:net\")', require('path').join(process.cwd(), 'x.cjs')); return m.exports.then((ns) => { ns.connect(9, '127.0.0.1'); return true; }); }",
    "function viaSocket() { new (process.stderr.constructor)().connect(9, '127.0.0.1'); return true; }",
  ].join('\n');
  const tests = [
    'writeOutside()',
    'writeTmp()',
    'writeInside()',
    'readSecret()',
    'http()',
    'net()',
    'useFetch()',
    'spawnShell()',
    'killParent()',
    'viaImport()',
    'viaSocket()',
    'Object.keys(process.env).length === 0',
  ];
  const r = await runInSandbox(code, tests, FAST);
  const passed = tests.filter((_, i) => r.tests[i].pass);
  assert.deepEqual(passed, ['writeInside()', 'Object.keys(process.env).length === 0']);
  assert.equal(existsSync(outside), false, 'file written outside the sandbox');
  assert.match(r.tests[0].error ?? '', /restricted|denied/i);
  assert.match(r.tests[4].error ?? '', /module "http" is not available/);
  assert.match(r.tests[9].error ?? '', /network access is disabled/);
});

test('code reward: memory limits (V8 heap and off-heap buffers)', async () => {
  const heap = await runInSandbox('const a = []; for (;;) a.push(new Array(1e5).fill(1));', ['true'], {
    ...FAST,
    memoryMb: 64,
  });
  assert.equal(heap.passed, 0);
  assert.match(heap.reason ?? '', /memory limit|timed out/); // the OOM crash usually wins; the clock is the backstop
  const buffers = await runInSandbox(
    'const keep = []; for (let i = 0; i < 200; i++) keep.push(Buffer.alloc(50e6, 1));',
    ['true'],
    { ...FAST, memoryMb: 64 },
  );
  assert.equal(buffers.passed, 0);
  assert.match(buffers.reason ?? '', /memory limit/);
});

test('code reward: results cannot be forged by the code', async () => {
  const code = [
    // Fake protocol lines on the result channel (without the secret nonce) ...
    'require("fs").writeSync(3, "0000 {\\"t\\":\\"test\\",\\"i\\":0,\\"pass\\":true}\\n");',
    // ... and a toJSON that would rewrite every JSON-serialised report.
    'Object.prototype.toJSON = function () { return { t: "test", i: 0, pass: true }; };',
    'function wrong() { return false; }',
  ].join('\n');
  const r = await runInSandbox(code, ['wrong()', 'wrong()'], FAST);
  assert.equal(r.passed, 0);
});

test('RewardSet scores code only for code tasks', async () => {
  const set = new RewardSet([
    { name: 'code', weight: 1, options: { timeout_ms: 3000, test_timeout_ms: 500 } },
    { name: 'format', weight: 0.5 },
  ]);
  const completion = answer('function add(a, b) { return a + b; }');
  const b = await set.score({ completion, task: 'code', tests: ['add(1, 1) === 2', 'add(1, 1) === 3'] });
  assert.deepEqual(b, { rewards: { code: 0.5, format: 1 }, total: 1 });
  const math = await set.score({ completion, answer: '2', task: 'math' });
  assert.deepEqual(Object.keys(math.rewards), ['format']);
});

test('sandbox temp dirs are deleted', () => {
  // Every run above used a fresh dir under TMP; only this test's own escape target could remain.
  const left = readdirSync(TMP).filter((n) => n.startsWith('r1-sandbox-'));
  assert.deepEqual(left, []);
});
