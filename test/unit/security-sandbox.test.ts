// The code sandbox against one escape attempt per test: the model under RL writes whatever
// earns reward, so each route out (files, network, processes, signals, time, memory, disk)
// must fail inside the sandbox and leave no trace outside it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { runInSandbox, type SandboxResult } from '../../server/src/rewards';

const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-escape-target-'));
after(() => fs.rmSync(outside, { recursive: true, force: true }));
const target = (name: string) => JSON.stringify(path.join(outside, name));

// Short limits: every attempt either fails at once or is cut off by them.
const LIMITS = { timeoutMs: 3000, testTimeoutMs: 500, memoryMb: 64, diskMb: 16 };

/** Runs `code` with one test that reports whether the attempt succeeded; it must not. */
async function attempt(code: string, test = 'escaped()', limits = LIMITS): Promise<SandboxResult> {
  const r = await runInSandbox(`${code}\n`, [test], limits);
  assert.equal(r.passed, 0, `the attempt succeeded: ${JSON.stringify(r)}`);
  return r;
}

const errorOf = (r: SandboxResult) => `${r.reason ?? ''} ${r.tests[0].error ?? ''}`;

// A control, so the tests below fail for the right reason: honest code passes.
test('control: code that stays inside its temp dir passes', async () => {
  const r = await runInSandbox(
    "function ok() { require('fs').writeFileSync('x.txt', 'hi'); return require('fs').readFileSync('x.txt', 'utf8') === 'hi'; }",
    ['ok()'],
    LIMITS,
  );
  assert.equal(r.passed, 1, JSON.stringify(r));
});

const FILES: [string, string][] = [
  ['write by absolute path', `function escaped() { require('fs').writeFileSync(${target('abs')}, 'x'); return true; }`],
  [
    'write by ../ relative path',
    `function escaped() { require('fs').writeFileSync('../r1-escape-rel-' + process.pid, 'x'); return true; }`,
  ],
  [
    'write through a symlink',
    `function escaped() { const fs = require('fs'); fs.symlinkSync(${JSON.stringify(outside)}, 'link'); fs.writeFileSync('link/sym', 'x'); return true; }`,
  ],
  [
    'write with fs.promises',
    `async function escaped() { await require('fs/promises').writeFile(${target('promises')}, 'x'); return true; }`,
  ],
  [
    'write with a file descriptor',
    `function escaped() { const fs = require('fs'); fs.writeSync(fs.openSync(${target('fd')}, 'w'), 'x'); return true; }`,
  ],
  [
    'rename into another folder',
    `function escaped() { const fs = require('fs'); fs.writeFileSync('a', 'x'); fs.renameSync('a', ${target('renamed')}); return true; }`,
  ],
  [
    'read a file outside',
    "function escaped() { return require('fs').readFileSync('/etc/hostname', 'utf8').length >= 0; }",
  ],
  [
    'change the working folder',
    "function escaped() { process.chdir('/'); require('fs').writeFileSync('r1-escape-cwd', 'x'); return true; }",
  ],
];
for (const [label, code] of FILES) {
  test(`files: ${label} is denied`, async () => {
    const r = await attempt(code);
    assert.match(errorOf(r), /restricted|denied|permission|ERR_ACCESS_DENIED|requires full fs/i);
    assert.deepEqual(fs.readdirSync(outside), [], 'nothing appeared outside');
  });
}

const NETWORK: [string, string][] = [
  ['net.connect', "function escaped() { require('net').connect(9, '127.0.0.1'); return true; }"],
  ['http.get', "function escaped() { require('http').get('http://127.0.0.1:9/'); return true; }"],
  ['fetch', "function escaped() { return fetch('http://127.0.0.1:9/').then(() => true); }"],
  ['dgram', "function escaped() { require('dgram').createSocket('udp4').send('x', 9, '127.0.0.1'); return true; }"],
  ['dns', "function escaped() { require('dns').lookup('example.com', () => {}); return true; }"],
  [
    'a socket from process.stderr',
    "function escaped() { new (process.stderr.constructor)().connect(9, '127.0.0.1'); return true; }",
  ],
  ['WebSocket', "function escaped() { new WebSocket('ws://127.0.0.1:9/'); return true; }"],
];
for (const [label, code] of NETWORK) {
  test(`network: ${label} is denied`, async () => {
    const r = await attempt(code);
    assert.match(errorOf(r), /network access is disabled|not available in the sandbox|not defined|not a constructor/);
  });
}

const PROCESSES: [string, string][] = [
  ['child_process.execSync', "function escaped() { return require('child_process').execSync('id').length > 0; }"],
  ['child_process via process.binding', "function escaped() { process.binding('spawn_sync'); return true; }"],
  [
    'a worker thread',
    "function escaped() { new (require('worker_threads').Worker)('1', { eval: true }); return true; }",
  ],
  [
    'a native addon',
    "function escaped() { process.dlopen({ exports: {} }, '/lib/x86_64-linux-gnu/libc.so.6'); return true; }",
  ],
  ['a signal to the trainer', 'function escaped() { process.kill(process.ppid, "SIGTERM"); return true; }'],
  ['the inspector', "function escaped() { require('inspector').open(0); return true; }"],
  ['environment variables', 'function escaped() { return Object.keys(process.env).length > 0; }'],
];
for (const [label, code] of PROCESSES) {
  test(`processes: ${label} is denied`, async () => {
    await attempt(code);
  });
}

const HANGS: [string, string, string][] = [
  ['a loop at load time', 'for (;;) {}', 'true'],
  ['a loop in a test', 'function escaped() { for (;;) {} }', 'escaped()'],
  ['a promise that never settles', 'function escaped() { return new Promise(() => {}); }', 'escaped()'],
  // Starves every timer, the per-test timeout included: only the parent's clock (or the memory
  // the chain piles up) can end it.
  [
    'an endless microtask chain',
    'function escaped() { const spin = () => Promise.resolve().then(spin); spin(); return new Promise((r) => setTimeout(() => r(true), 0)); }',
    'escaped()',
  ],
  [
    'Atomics.wait forever',
    'function escaped() { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); return true; }',
    'escaped()',
  ],
];
for (const [label, code, t] of HANGS) {
  test(`time: ${label} is stopped by the limits`, async () => {
    const started = Date.now();
    const r = await attempt(code, t);
    assert.ok(Date.now() - started < LIMITS.timeoutMs + 2000, `took ${Date.now() - started} ms`);
    assert.match(errorOf(r), /timed out|memory limit/);
  });
}

const BOMBS: [string, string, RegExp][] = [
  ['a growing heap', 'const a = []; for (;;) a.push(new Array(1e5).fill(1));', /memory limit|timed out/],
  [
    'off-heap buffers',
    'const keep = []; for (let i = 0; i < 100; i++) keep.push(Buffer.alloc(50e6, 1));',
    /memory limit/,
  ],
  ['a doubling string', "let s = 'x'; for (;;) s += s;", /memory limit|Invalid string length|timed out/],
  // Asynchronous loops: the per-test clock cannot stop them, only the disk watchdog or the wall clock.
  [
    'a file filling the disk',
    "const fs = require('fs'); const b = Buffer.alloc(8 << 20, 1); (async () => { for (;;) await fs.promises.appendFile('big', b); })();",
    /disk limit exceeded \(16 MB written\)/,
  ],
  [
    'many files',
    "const fs = require('fs'); (async () => { for (let i = 0; ; i++) await fs.promises.writeFile('f' + i, ''); })();",
    /disk limit exceeded \(more than \d+ files\)/,
  ],
];
for (const [label, code, says] of BOMBS) {
  test(`memory and disk: ${label} is stopped`, async () => {
    // The test waits (until its own, longer, time limit), so an asynchronous bomb has time to go off.
    const r = await attempt(code, 'new Promise(() => {})', { ...LIMITS, testTimeoutMs: 2500, timeoutMs: 4000 });
    assert.match(errorOf(r), says);
  });
}
