// The program that runs inside the sandboxed child process (see run.ts). It ships as a string
// and is written into each run's temp dir, because the CLI is one esbuild bundle with no
// separate files beside it, and the permission model only lets the child read that dir.
//
// Protocol: stdin carries one JSON object {nonce, code, tests, testTimeoutMs}. Results go to
// fd 3 as lines "<nonce> <json>": {"t":"code","ok":bool,"error"?}, {"t":"test","i","pass","error"?},
// {"t":"done"}. The candidate code never sees the nonce (it is read before the code runs and
// kept in a closure), so printing fake results to fd 3 earns nothing.

/** CommonJS source of the sandbox runner. Kept free of backticks and `${` (it is a template). */
export const RUNNER_SOURCE = String.raw`'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const util = require('util');
const assert = require('assert');
const Module = require('module');
const timers = require('timers');

const payload = JSON.parse(fs.readFileSync(0, 'utf8'));
const nonce = payload.nonce;

// Everything the runner needs after the candidate code has run is captured now: the code
// shares this realm and may overwrite globals and prototypes.
const writeSync = fs.writeSync;
const stringify = JSON.stringify;
const isPromise = util.types.isPromise;
const then = Promise.prototype.then;
const NativePromise = Promise;
const setTimer = timers.setTimeout;
const clearTimer = timers.clearTimeout;
const exit = process.reallyExit.bind(process, 0);
const isBuiltin = Module.isBuiltin;
const originalLoad = Module._load;
const VmScript = vm.Script;
const toStr = String;
const slice = Function.prototype.call.bind(String.prototype.slice);
const test = Function.prototype.call.bind(RegExp.prototype.test);

// Lines are assembled from primitives: JSON.stringify of an object would consult a toJSON that
// the candidate may have planted on Object.prototype.
function send(body) {
  try {
    writeSync(3, nonce + ' {' + body + '}\n');
  } catch (e) {
    // Parent gone or fd closed by the candidate code: nothing left to tell.
  }
}

function reportCode(ok, error) {
  send('"t":"code","ok":' + (ok ? 'true' : 'false') + (ok ? '' : ',"error":' + stringify(error)));
}

function reportTest(i, pass, error) {
  send('"t":"test","i":' + i + ',"pass":' + (pass ? 'true' : 'false') + (error === undefined ? '' : ',"error":' + stringify(error)));
}

function describe(err) {
  try {
    const text = err && typeof err === 'object' && 'message' in err ? (err.name ? toStr(err.name) + ': ' : '') + toStr(err.message) : toStr(err);
    return slice(text, 0, 300);
  } catch (e) {
    return 'unprintable error';
  }
}

function sandboxError(message) {
  const err = new Error(message);
  err.code = 'ERR_SANDBOX_DENIED';
  return err;
}

// --- Lock-down -------------------------------------------------------------------------------
// The permission model (flags set by the parent) already denies file access outside the temp
// dir, child processes, workers, addons, the inspector and process.binding. Node 20 has no
// network permission, so network modules are neutered here, at two levels: the loader refuses
// them, and their exports and socket prototypes are replaced, which also covers routes that
// bypass require (import() from a module compiled by the candidate, instances reachable from
// process.stderr's constructor).

// Materialise the std streams while the real net module is intact (stderr is a pipe socket).
void process.stdout;
void process.stderr;

const NETWORK = ['net', 'http', 'https', 'http2', 'dgram', 'dns', 'dns/promises', 'tls',
  '_http_agent', '_http_client', '_http_common', '_http_incoming', '_http_outgoing', '_http_server', '_tls_common', '_tls_wrap'];
const BLOCKED = new Set(NETWORK.concat(['child_process', 'cluster', 'worker_threads', 'inspector', 'inspector/promises',
  'module', 'vm', 'v8', 'repl', 'trace_events', 'wasi']));

function denyNetwork() {
  throw sandboxError('network access is disabled in the sandbox');
}

function patchPrototype(Class, methods) {
  if (typeof Class !== 'function' || !Class.prototype) return;
  for (const m of methods) {
    try {
      Object.defineProperty(Class.prototype, m, { value: denyNetwork, writable: false, configurable: false });
    } catch (e) {
      // Already locked: fine.
    }
  }
}

const net = require('net');
const dgram = require('dgram');
const http = require('http');
patchPrototype(net.Socket, ['connect']);
patchPrototype(net.Server, ['listen']);
patchPrototype(dgram.Socket, ['bind', 'connect', 'send', 'sendto']);
patchPrototype(http.Agent, ['createConnection']);
for (const name of NETWORK) {
  let exported;
  try {
    exported = require(name);
  } catch (e) {
    continue;
  }
  for (const key of Object.getOwnPropertyNames(exported)) {
    const desc = Object.getOwnPropertyDescriptor(exported, key);
    if (desc && 'value' in desc && typeof desc.value === 'function') {
      try {
        Object.defineProperty(exported, key, { value: denyNetwork, writable: false, configurable: false });
      } catch (e) {
        // Non-configurable export: its socket methods are patched above.
      }
    }
  }
}

Module._load = function load(request, parent, isMain) {
  const name = toStr(request);
  const bare = slice(name, 0, 5) === 'node:' ? slice(name, 5) : name;
  if (BLOCKED.has(bare)) throw sandboxError('module "' + bare + '" is not available in the sandbox');
  if (!isBuiltin(name)) throw sandboxError('only Node built-in modules can be required in the sandbox, not "' + name + '"');
  return originalLoad.call(Module, request, parent, isMain);
};

for (const name of ['fetch', 'WebSocket', 'EventSource']) {
  try {
    delete globalThis[name];
  } catch (e) {
    globalThis[name] = undefined;
  }
}

// Signals could reach the trainer (process.kill(process.ppid)) or open the inspector (SIGUSR1).
for (const name of ['kill', '_kill', '_debugProcess', '_debugEnd']) {
  try {
    Object.defineProperty(process, name, { value: function denied() { throw sandboxError('process.' + name + ' is disabled in the sandbox'); }, writable: false, configurable: false });
  } catch (e) {
    // Keep going: the other guards still apply.
  }
}

// --- The candidate's environment -------------------------------------------------------------
Object.freeze(assert.strict);
Object.freeze(assert);
const lock = { writable: false, configurable: false, enumerable: false };
Object.defineProperty(globalThis, 'assert', Object.assign({ value: assert }, lock));
globalThis.require = Module.createRequire(path.join(process.cwd(), 'solution.js'));
globalThis.module = { exports: {} };
globalThis.exports = globalThis.module.exports;

const timeout = payload.testTimeoutMs;

// ES module syntax is common in model output; a script cannot contain it, so plain export
// keywords are dropped (export function f, export const x, export { a, b }).
const code = toStr(payload.code)
  .replace(/^([ \t]*)export[ \t]+default[ \t]+(?=(?:async[ \t]+)?function\b|class\b)/gm, '$1')
  .replace(/^([ \t]*)export[ \t]+(?=(?:async[ \t]+)?function\b|class\b|const\b|let\b|var\b)/gm, '$1')
  .replace(/^[ \t]*export[ \t]*\{[^}\n]*\}[ \t]*;?[ \t]*$/gm, '');

// Errors thrown later by the candidate's own timers or promises must not end the run.
process.on('uncaughtException', function () {});
process.on('unhandledRejection', function () {});

// A test is tried as one expression, then as a block (whose completion value is the result,
// so "const r = f(1); r === 2" works), then as a function body (for return and await).
function compile(source, i) {
  const filename = 'test' + i + '.js';
  try {
    return { script: new VmScript('(' + source + '\n)', { filename }), expression: true };
  } catch (e) {
    // Not an expression.
  }
  try {
    return { script: new VmScript('{\n' + source + '\n}', { filename }), expression: false };
  } catch (e) {
    const wrapper = test(/\bawait\b/, source) ? '(async function () {\n' : '(function () {\n';
    return { script: new VmScript(wrapper + source + '\n})()', { filename }), expression: false };
  }
}

// An expression passes when truthy, except an assertion call (assert(...), assert.x(...)),
// which passes when it does not throw. Statements pass when they do not throw and their
// result (last expression statement, or return value) is undefined or truthy.
function verdict(value, expression, source) {
  if (!expression) return value === undefined || !!value;
  if (test(/^\s*assert\b/, source)) return true;
  return !!value;
}

// Waits for a promise result with the per-test limit, through the captured native then.
function settle(value, onDone) {
  if (!isPromise(value)) return onDone(value, undefined);
  let finished = false;
  const timer = setTimer(function () {
    if (!finished) {
      finished = true;
      onDone(undefined, new Error('test timed out after ' + timeout + ' ms'));
    }
  }, timeout);
  then.call(
    value,
    function (v) {
      if (finished) return;
      finished = true;
      clearTimer(timer);
      onDone(v, undefined);
    },
    function (err) {
      if (finished) return;
      finished = true;
      clearTimer(timer);
      onDone(undefined, err || new Error('rejected'));
    },
  );
}

const tests = payload.tests;
function runTest(i) {
  if (i >= tests.length) {
    send('"t":"done"');
    exit();
    return;
  }
  const source = tests[i];
  let compiled;
  try {
    compiled = compile(source, i);
  } catch (err) {
    reportTest(i, false, 'test does not compile: ' + describe(err));
    return runTest(i + 1);
  }
  let value;
  try {
    value = compiled.script.runInThisContext({ timeout, displayErrors: false });
  } catch (err) {
    reportTest(i, false, describe(err));
    return runTest(i + 1);
  }
  settle(value, function (result, err) {
    if (err) reportTest(i, false, describe(err));
    else reportTest(i, verdict(result, compiled.expression, source));
    // A fresh macrotask per test keeps long test lists off the stack.
    setTimer(function () {
      runTest(i + 1);
    }, 0);
  });
}

// CommonJS-style answers (module.exports = { add }) expose their exports to the tests as globals.
function exposeExports() {
  try {
    const exported = globalThis.module && globalThis.module.exports;
    if (exported && (typeof exported === 'object' || typeof exported === 'function')) {
      for (const key of Object.keys(exported)) if (!(key in globalThis)) globalThis[key] = exported[key];
    }
  } catch (e) {
    // A hostile exports object only costs the candidate its own tests.
  }
}

let loaded = false;
try {
  new VmScript(code, { filename: 'solution.js' }).runInThisContext({ timeout, displayErrors: false });
  loaded = true;
} catch (err) {
  reportCode(false, describe(err));
  exit();
}
if (loaded) {
  reportCode(true);
  exposeExports();
  runTest(0);
}
`;
