// Fuzzing the pipeline config parser: random files, the shipped config with one value of the
// wrong type, unknown keys and hostile preset names. A config either loads or is refused with a
// ConfigError that names the JSON path of the problem; never another exception.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { ConfigError, loadPipelineConfig } from '../../server/src/config/pipelineConfig';

const ROOT = path.join(__dirname, '..', '..');
const SHIPPED = JSON.parse(fs.readFileSync(path.join(ROOT, 'samples', 'r1.config.json'), 'utf8'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-fuzz-config-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const counts = new Map<string, number>();
const count = (target: string) => counts.set(target, (counts.get(target) ?? 0) + 1);
after(() => {
  for (const [target, n] of counts) console.log(`fuzz ${target}: ${n} cases`);
});

let fileNo = 0;
function writeConfig(content: string | Uint8Array): string {
  const file = path.join(tmp, `config-${fileNo++}.json`);
  fs.writeFileSync(file, content);
  return file;
}

/** Loads a config; returns the ConfigError if it is refused, failing on any other exception. */
function load(file: string, preset?: string): ConfigError | undefined {
  try {
    loadPipelineConfig(file, preset);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${(err as Error)?.stack ?? err}`);
    assert.ok(err.message.startsWith(file), `the message names the file: ${err.message}`);
    return err;
  }
}

test('fuzz config: random text and JSON values are refused with a ConfigError', () => {
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.uint8Array({ maxLength: 200 }),
  );
  fc.assert(
    fc.property(text, (content) => {
      count('config parser (random files)');
      const error = load(writeConfig(content));
      // Only an object with "eval" and "stages" can be a config; random text never is.
      assert.ok(error, `accepted: ${String(content).slice(0, 200)}`);
    }),
    { numRuns: 300, seed: 21 },
  );
});

/** Every leaf of the shipped config as a JSON path, e.g. ['stages', 'pretrain', 'steps']. */
function leaves(v: unknown, at: string[] = []): string[][] {
  if (v === null || typeof v !== 'object') return [at];
  return Object.entries(v).flatMap(([k, x]) => leaves(x, [...at, k]));
}
const LEAVES = leaves(SHIPPED);

// The schema lists these stages' settings without types (they are checked with the field's name
// when the stage starts); a wrong type there may load, but must not crash the loader.
const UNTYPED = /^(?:presets\/[^/]+\/)?stages\/(?:rejection-sampling|reward-model|sft|rl-all)\/(?!data$)/;

/** A value of another JSON type than `v`. */
function wrongTypeFor(v: unknown): fc.Arbitrary<unknown> {
  const all = [
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 6 }),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
  ];
  const type = (x: unknown) => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x);
  return fc.oneof(...all).filter((x) => type(x) !== type(v));
}

test("fuzz config: a wrong type in any field is refused with that field's JSON path", () => {
  const mutation = fc
    .constantFrom(...LEAVES)
    .chain((leaf) => fc.tuple(fc.constant(leaf), wrongTypeFor(leaf.reduce((o, k) => o[k], SHIPPED))));
  let named = 0;
  fc.assert(
    fc.property(mutation, ([leaf, value]) => {
      count('config parser (wrong type per field)');
      const config = structuredClone(SHIPPED);
      const parent = leaf
        .slice(0, -1)
        .reduce((o: Record<string, unknown>, k) => o[k] as Record<string, unknown>, config);
      parent[leaf[leaf.length - 1]] = value;
      const pointer = `/${leaf.join('/')}`;
      const error = load(writeConfig(JSON.stringify(config)));
      if (UNTYPED.test(pointer.slice(1))) return;
      assert.ok(error, `${pointer} = ${JSON.stringify(value)} was accepted`);
      // A bad value can make a parent invalid too (an anyOf); the first problem is at or below the field.
      assert.ok(error.pointer?.startsWith(pointer), `${pointer}: error at ${error.pointer}: ${error.message}`);
      assert.ok(error.message.includes(`(${error.pointer})`), error.message);
      named++;
    }),
    { numRuns: 300, seed: 22 },
  );
  assert.ok(named > 100, `most mutations hit typed fields (${named})`);
});

test('fuzz config: an unknown key in a closed object is refused with its path', () => {
  const CLOSED = [[], ['eval'], ['stages'], ['stages', 'pretrain'], ['stages', 'reasoning-rl'], ['presets', 'tiny']];
  const key = fc.oneof(
    fc.string({ minLength: 1, maxLength: 12 }),
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'tempreature', 'a/b', '~0'),
  );
  fc.assert(
    fc.property(fc.constantFrom(...CLOSED), key, fc.jsonValue({ maxDepth: 2 }), (at, k, value) => {
      const config = structuredClone(SHIPPED);
      const parent = at.reduce((o: Record<string, unknown>, p) => o[p] as Record<string, unknown>, config);
      if (Object.hasOwn(parent, k)) return; // not unknown
      count('config parser (unknown keys)');
      // Written as text so "__proto__" is a real key, as in a file a user wrote.
      const json = JSON.stringify(config);
      const parentJson = JSON.stringify(parent);
      const withKey = parentJson.slice(0, -1) + `,${JSON.stringify(k)}:${JSON.stringify(value)}}`;
      const error = load(writeConfig(at.length === 0 ? withKey : json.replace(parentJson, () => withKey)));
      assert.ok(error, `unknown key ${JSON.stringify(k)} in /${at.join('/')} was accepted`);
      const escaped = k.replace(/~/g, '~0').replace(/\//g, '~1');
      assert.ok(
        error.message.includes(`(${[...at.map((p) => `/${p}`), `/${escaped}`].join('')})`),
        `${JSON.stringify(k)}: ${error.message}`,
      );
    }),
    { numRuns: 200, seed: 23 },
  );
});

test('fuzz config: any --preset name loads a preset or is refused, never reads Object members', () => {
  const file = writeConfig(JSON.stringify(SHIPPED));
  const name = fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf', 'tiny'),
  );
  fc.assert(
    fc.property(name, (preset) => {
      count('config parser (preset names)');
      const error = load(file, preset);
      if (preset === 'tiny' || preset === '') assert.equal(error, undefined);
      else assert.match(error?.message ?? '', /no preset/);
    }),
    { numRuns: 100, seed: 24 },
  );
});

test('config: 1e999 (Infinity after JSON.parse) is refused with its path', () => {
  count('config parser (non-finite numbers)');
  const text = JSON.stringify(SHIPPED).replace('"lr":0.002', '"lr":1e999');
  const error = load(writeConfig(text));
  assert.equal(error?.pointer, '/stages/pretrain/lr');
});
