// Security properties of the daemon's endpoints that its other tests take for granted: the token
// is compared in constant time, the token file is private even under a loose umask or a hostile
// folder, and the HTTP/WebSocket server listens on loopback only.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { EventHub } from '../../server/src/daemon/hub';
import { writeTokenFile } from '../../server/src/daemon/tokenFile';
import { startEndpoints, tokenMatches } from '../../server/src/daemon/wsServer';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-security-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// The module object itself (an ES namespace import has read-only bindings), to spy on it.
const crypto = createRequire(__filename)('node:crypto') as typeof import('node:crypto');
const content = (token: string, file: string) => ({
  http: 'h',
  ws: 'w',
  tokenFile: file,
  token,
  pid: 1,
  workspace: tmp,
});

test('token comparison goes through crypto.timingSafeEqual, for every length of guess', () => {
  const token = 'a'.repeat(43);
  const calls: number[] = [];
  const real = crypto.timingSafeEqual;
  // The daemon reads the function from the module at call time, so a spy sees its calls.
  crypto.timingSafeEqual = (a, b) => {
    calls.push(a.byteLength);
    return real(a, b);
  };
  try {
    assert.equal(tokenMatches(token, token), true);
    assert.equal(tokenMatches(`${'a'.repeat(42)}b`, token), false);
    assert.equal(tokenMatches('b' + 'a'.repeat(42), token), false);
  } finally {
    crypto.timingSafeEqual = real;
  }
  assert.deepEqual(calls, [43, 43, 43], 'each same-length guess is compared in constant time');
  for (const guess of [undefined, null, '', 'a', 'a'.repeat(44), 'ä'.repeat(22)])
    assert.equal(tokenMatches(guess, token), false);
});

test('token file: 0600 in a 0700 folder, even with umask 0 and a folder left world-writable', () => {
  const dir = path.join(tmp, 'ws1', '.r1');
  fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
  fs.chmodSync(dir, 0o777);
  const file = path.join(dir, 'daemon.json');
  fs.writeFileSync(file, '{}', { mode: 0o644 }); // an older file with loose permissions
  const umask = process.umask(0);
  try {
    writeTokenFile(file, content('secret', file));
  } finally {
    process.umask(umask);
  }
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).token, 'secret');
});

test('token file: symlinks planted at its path or its temp path are replaced, never written through', () => {
  const dir = path.join(tmp, 'ws2', '.r1');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'daemon.json');
  const victim = path.join(tmp, 'victim.txt');
  fs.writeFileSync(victim, 'untouched');
  fs.symlinkSync(victim, file);
  fs.symlinkSync(victim, `${file}.tmp-${process.pid}`);
  writeTokenFile(file, content('secret', file));
  assert.equal(fs.readFileSync(victim, 'utf8'), 'untouched');
  assert.equal(fs.lstatSync(file).isSymbolicLink(), false);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
});

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalAddress(): string | undefined {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

test('the HTTP/WebSocket server listens on 127.0.0.1 only', async () => {
  const endpoints = await startEndpoints({
    token: 't',
    hub: new EventHub(),
    version: 'test',
    status: () => ({ version: 'test', state: 'idle', queue: [] }),
    http: (_req, res) => res.end('ok'),
  });
  try {
    assert.match(endpoints.httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(endpoints.wsUrl, /^ws:\/\/127\.0\.0\.1:\d+\//);
    const ok = await fetch(endpoints.httpUrl);
    assert.equal(await ok.text(), 'ok');
    const external = externalAddress();
    if (external) {
      // The same port on another interface of this machine refuses the connection.
      const refused = await new Promise<string>((resolve) => {
        const s = net.connect(endpoints.port, external);
        s.on('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
      assert.equal(refused, 'ECONNREFUSED', `port ${endpoints.port} on ${external}`);
    } else {
      console.log('security: no non-loopback interface here; checked the bound address only');
    }
  } finally {
    await endpoints.close();
  }
});
