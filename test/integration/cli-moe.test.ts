// The Mixture-of-Experts model through the CLI: `r1 presets` shows what each preset costs per
// token, and the whole pipeline runs with an MoE preset, logging the routing of every stage.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'server', 'out', 'cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-cli-moe-'));

function r1(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => assert.ok(fs.existsSync(CLI), 'build first: npm run build'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('r1 presets lists total and active parameters per token', () => {
  const r = r1(['presets', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { preset: string; total: number; activePerToken: number }[];
  const by = Object.fromEntries(rows.map((x) => [x.preset, x]));
  assert.equal(by.small.total, by.small.activePerToken);
  assert.ok(by['small-moe'].total > 3.5 * by.small.total, 'small-moe stores ~4x');
  assert.ok(
    Math.abs(by['small-moe'].activePerToken / by.small.activePerToken - 1) < 0.02,
    'and uses the same per token',
  );
  const table = r1(['presets']);
  assert.match(table.stdout, /^small-moe .*MoE: top-3 of 24 routed \+ 1 shared.* 1,844,736 +468,480$/m);
});

test('pipeline --preset tiny-moe runs all seven stages and logs expert load', () => {
  const out = path.join(tmp, 'moe-run');
  const r = r1(['pipeline', '--preset', 'tiny-moe', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /new model, [\d,]+ parameters, [\d,]+ active per token \(MoE: 2 of 4 routed/);
  for (const stage of ['pretrain', 'cold-start', 'reasoning-rl', 'rejection-sampling', 'sft', 'reward-model', 'rl-all'])
    assert.ok(fs.existsSync(path.join(out, stage, 'summary.json')), `${stage}/summary.json`);
  const config = JSON.parse(fs.readFileSync(path.join(out, 'rl-all', 'checkpoint', 'config.json'), 'utf8'));
  assert.deepEqual(
    { E: config.moe.routedExperts, K: config.moe.topK },
    { E: 4, K: 2 },
    'the MoE layout survives every checkpoint',
  );
  for (const stage of ['pretrain', 'cold-start', 'reasoning-rl', 'sft', 'reward-model', 'rl-all']) {
    const lines = fs
      .readFileSync(path.join(out, stage, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const routed = lines.filter((m) => Array.isArray(m['moe/load/layer0']));
    assert.ok(routed.length > 0, `${stage} logs moe/load`);
    for (const m of routed) {
      const load = m['moe/load/layer0'] as number[];
      assert.equal(load.length, 4);
      assert.ok(Math.abs(load.reduce((a, b) => a + b, 0) - 1) < 1e-3, `${stage} load shares sum to 1: ${load}`);
      assert.ok(m['moe/router_entropy'] > 0 && m['moe/router_entropy'] <= Math.log(4) + 1e-6);
      assert.ok(m['moe/dropped_ratio'] >= 0 && m['moe/dropped_ratio'] < 1);
      assert.equal((m['moe/bias/layer0'] as number[]).length, 4);
    }
  }
});
