// The r1 CLI as users run it: the built bundle, real files, real exit codes.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'server', 'out', 'cli.js');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'data');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-cli-'));
const run = path.join(tmp, 'run');

function r1(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  assert.ok(fs.existsSync(CLI), 'build first: npm run build');
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('validate: every malformed line is reported with its line and exit code 1', () => {
  const broken = path.join(tmp, 'broken.jsonl');
  fs.writeFileSync(
    broken,
    ['{"prompt": "a", "completion": "b"}', '{"prompt": "c", "completion": 3}', 'not json', '{"prompt": "d"}', ''].join(
      '\n',
    ),
  );
  const r = r1(['validate', broken, '--kind', 'sft']);
  assert.equal(r.code, 1);
  const lines = r.stdout.trim().split('\n');
  assert.ok(
    lines.some((l) => l.startsWith(`${broken}:2:`) && l.includes('completion')),
    r.stdout,
  );
  assert.ok(
    lines.some((l) => l.startsWith(`${broken}:3:`) && l.includes('error')),
    r.stdout,
  );
  assert.ok(
    lines.some((l) => l.startsWith(`${broken}:4:`) && l.includes('completion')),
    r.stdout,
  );
  assert.ok(!r.stderr.includes('    at '), 'no stack trace for bad input');
});

test('validate: a valid file of each format passes', () => {
  for (const f of fs
    .readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.jsonl') && !f.startsWith('broken') && !f.startsWith('corpus'))) {
    const r = r1(['validate', path.join(FIXTURES, f)]);
    assert.equal(r.code, 0, `${f}: ${r.stdout}${r.stderr}`);
  }
  for (const f of ['cold-start.jsonl', 'rl-prompts.jsonl', 'eval.jsonl', 'general-sft.jsonl', 'preference.jsonl']) {
    const r = r1(['validate', path.join(ROOT, 'samples', f)]);
    assert.equal(r.code, 0, `${f}: ${r.stdout}`);
  }
});

test('pipeline on the tiny preset writes checkpoints, metrics and a summary table', () => {
  const r = r1(['pipeline', '--preset', 'tiny', '--stages', 'pretrain,cold-start,reasoning-rl', '--out', run]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /stage\s+wall\s+steps\s+pass@1/);
  for (const stage of ['pretrain', 'cold-start', 'reasoning-rl']) {
    for (const f of ['model.json', 'weights.bin', 'tokenizer.json', 'config.json', 'state.json']) {
      assert.ok(fs.existsSync(path.join(run, stage, 'checkpoint', f)), `${stage}/${f}`);
    }
    const metrics = fs
      .readFileSync(path.join(run, stage, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(metrics.length > 0 && metrics.every((m) => m.stage === stage && Number.isInteger(m.step)));
  }
  const rl = fs
    .readFileSync(path.join(run, 'reasoning-rl', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const stepLine = rl.find((m) => 'reward' in m)!;
  for (const key of [
    'loss',
    'reward',
    'reward_std',
    'rewards/accuracy/mean',
    'rewards/format/std',
    'frac_reward_zero_std',
    'kl',
    'entropy',
    'clip_ratio/low_mean',
    'clip_ratio/high_mean',
    'clip_ratio/region_mean',
    'completions/mean_length',
    'completions/min_length',
    'completions/max_length',
    'completions/clipped_ratio',
    'learning_rate',
    'grad_norm',
    'step_time',
    'tokens_per_second/sample',
    'tokens_per_second/train',
  ]) {
    assert.ok(key in stepLine, `metric ${key}`);
  }
  assert.ok(rl.some((m) => 'eval/pass@1' in m && 'eval/format' in m && 'eval/language_consistency' in m));
  const group = JSON.parse(fs.readFileSync(path.join(run, 'reasoning-rl', 'groups.jsonl'), 'utf8').split('\n')[0]);
  assert.ok(
    group.prompt &&
      group.completions.length === 4 &&
      'advantage' in group.completions[0] &&
      'accuracy' in group.completions[0].rewards,
  );
  const again = r1(['pipeline', '--preset', 'tiny', '--stages', 'pretrain', '--out', run]);
  assert.match(again.stderr, /pretrain: already complete/);
});

test('eval --json prints one JSON object as the last line', () => {
  const r = r1([
    'eval',
    '--checkpoint',
    path.join(run, 'cold-start', 'checkpoint'),
    '--data',
    path.join(ROOT, 'samples', 'eval.jsonl'),
    '--json',
    '--max-tokens',
    '16',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(last.n, 300);
  for (const k of ['pass@1', 'format', 'language_consistency']) assert.ok(last[k] >= 0 && last[k] <= 1, k);
  assert.ok(last.mean_completion_tokens > 0);
});

test('generate streams a completion; bad input exits 1 with a message naming the thing', () => {
  const g = r1([
    'generate',
    '--checkpoint',
    path.join(run, 'cold-start', 'checkpoint'),
    '--prompt',
    'What is 1 + 2?',
    '--max-tokens',
    '8',
  ]);
  assert.equal(g.code, 0, g.stderr);
  assert.ok(g.stdout.length > 0);
  const missing = r1([
    'eval',
    '--checkpoint',
    path.join(tmp, 'nope'),
    '--data',
    path.join(ROOT, 'samples', 'eval.jsonl'),
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope: not a checkpoint folder/);
  const badStage = r1(['run', 'nonsense', '--preset', 'tiny', '--out', run]);
  assert.equal(badStage.code, 1);
  assert.match(badStage.stderr, /unknown stage "nonsense"/);
  const badConfig = r1(['pipeline', '--config', path.join(tmp, 'missing.json')]);
  assert.equal(badConfig.code, 1);
  assert.match(badConfig.stderr, /missing\.json: cannot read config/);
});

test('Ctrl-C checkpoints; running again resumes from that step', async () => {
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'samples', 'r1.config.json'), 'utf8'));
  config.presets.tiny.stages.pretrain = { steps: 100000, batchSize: 2, checkpointEvery: 5, logEvery: 1 };
  for (const k of ['eval']) config.presets.tiny[k] = { limit: 3, maxNewTokens: 4 };
  const cfgFile = path.join(ROOT, 'samples', `.test-resume-${process.pid}.json`);
  fs.writeFileSync(cfgFile, JSON.stringify(config));
  try {
    const out = path.join(tmp, 'resume');
    const child = spawn(
      process.execPath,
      [CLI, 'run', 'pretrain', '--config', cfgFile, '--preset', 'tiny', '--out', out],
      { cwd: ROOT },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const metrics = path.join(out, 'pretrain', 'metrics.jsonl');
    const deadline = Date.now() + 60_000;
    while (
      !(fs.existsSync(metrics) && fs.readFileSync(metrics, 'utf8').split('\n').length > 8) &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 0, stderr);
    const m = /cancelled at step (\d+)/.exec(stderr);
    assert.ok(m, stderr);
    const stoppedAt = Number(m[1]);
    const state = JSON.parse(fs.readFileSync(path.join(out, 'pretrain', 'checkpoint', 'state.json'), 'utf8'));
    assert.equal(state.step, stoppedAt);
    const child2 = spawn(
      process.execPath,
      [CLI, 'run', 'pretrain', '--config', cfgFile, '--preset', 'tiny', '--out', out],
      { cwd: ROOT },
    );
    let stderr2 = '';
    child2.stderr.on('data', (d) => (stderr2 += d));
    while (!stderr2.includes('resuming') && Date.now() < deadline + 30_000)
      await new Promise((r) => setTimeout(r, 100));
    child2.kill('SIGINT');
    await new Promise((r) => child2.on('exit', r));
    assert.match(stderr2, new RegExp(`resuming pretrain from step ${stoppedAt}\\b`));
  } finally {
    fs.rmSync(cfgFile, { force: true });
  }
});

test('pipeline --preset tiny runs all seven stages; a review with nothing accepted stops sft with exit 1', () => {
  const out = path.join(tmp, 'all-stages');
  const r = r1(['pipeline', '--preset', 'tiny', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const stages = ['pretrain', 'cold-start', 'reasoning-rl', 'rejection-sampling', 'sft', 'reward-model', 'rl-all'];
  for (const stage of stages) {
    assert.ok(fs.existsSync(path.join(out, stage, 'summary.json')), `${stage}/summary.json`);
    assert.match(r.stdout, new RegExp(`^${stage}\\s`, 'm'), `${stage} row in the summary table`);
  }
  const summary = (stage: string) => JSON.parse(fs.readFileSync(path.join(out, stage, 'summary.json'), 'utf8'));
  const metrics = (stage: string) =>
    fs
      .readFileSync(path.join(out, stage, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  // rejection-sampling: a valid review file (auto-accepted in the tiny preset) and its statistics.
  const review = path.join(out, 'rejection-sampling', 'review.jsonl');
  const v = r1(['validate', review, '--kind', 'review', '--json']);
  assert.equal(v.code, 0, v.stdout);
  const records = fs
    .readFileSync(review, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const rs = summary('rejection-sampling');
  assert.ok(records.length > 0 && records.length === rs.figures.kept, `${records.length} traces kept`);
  assert.equal(rs.figures.acceptance_rate, rs.figures.kept / rs.figures.sampled);
  for (const rec of records) {
    assert.equal(rec.status, 'accepted');
    assert.deepEqual(Object.keys(rec.rewards).sort(), ['accuracy', 'format', 'language', 'repetition']);
    assert.equal(rec.source.stage, 'reasoning-rl');
    assert.ok(Number.isInteger(rec.source.sample) && rec.source.temperature > 0 && rec.source.checkpoint);
  }
  assert.ok(metrics('rejection-sampling').some((m) => 'acceptance_rate' in m && 'rejected/truncated' in m));
  assert.match(r.stdout, /^rejection-sampling .*accepted \d+\.\d% \(\d+\/\d+\)/m);

  // sft and reward-model: checkpoints; the reward model is marked as one, with its head in the manifest.
  for (const stage of ['sft', 'reward-model', 'rl-all'])
    for (const f of ['model.json', 'weights.bin', 'tokenizer.json', 'config.json', 'state.json'])
      assert.ok(fs.existsSync(path.join(out, stage, 'checkpoint', f)), `${stage}/${f}`);
  const rmDir = path.join(out, 'reward-model', 'checkpoint');
  assert.equal(JSON.parse(fs.readFileSync(path.join(rmDir, 'config.json'), 'utf8')).kind, 'reward-model');
  const manifest = JSON.parse(fs.readFileSync(path.join(rmDir, 'model.json'), 'utf8'));
  assert.ok(manifest.weightsManifest[0].weights.some((w: { name: string }) => w.name === 'rm.head'));
  const acc = summary('reward-model').figures.pair_accuracy;
  assert.ok(acc >= 0 && acc <= 1, `pair accuracy ${acc}`);
  assert.ok(metrics('reward-model').some((m) => 'eval/pair_accuracy' in m));
  assert.match(r.stdout, /^reward-model .*pair accuracy \d\.\d{3}/m);

  // rl-all: the preference metric, and the reward model scoring general prompts only in the last 2 of 4 steps.
  const rlAll = metrics('rl-all');
  assert.ok(rlAll.some((m) => typeof m['rewards/preference/mean'] === 'number' && m['rewards/preference/mean'] !== 0));
  const groups = fs
    .readFileSync(path.join(out, 'rl-all', 'groups.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const general = groups.filter((g) => g.answer === '');
  assert.ok(general.length > 0 && groups.some((g) => g.answer !== ''), 'both general and verifiable prompts');
  for (const g of general) {
    const scored = g.completions.every((c: { rewards: object }) => 'preference' in c.rewards);
    assert.equal(scored, g.step > 2, `step ${g.step}: preference ${scored ? 'on' : 'off'}`);
  }
  assert.ok(groups.filter((g) => g.answer !== '').every((g) => !('preference' in g.completions[0].rewards)));

  // A review nobody accepted yet: sft stops before training, naming the file.
  const pendingRun = path.join(tmp, 'pending-review');
  const pendingFile = path.join(pendingRun, 'rejection-sampling', 'review.jsonl');
  fs.mkdirSync(path.dirname(pendingFile), { recursive: true });
  fs.writeFileSync(pendingFile, records.map((rec) => JSON.stringify({ ...rec, status: 'pending' })).join('\n') + '\n');
  const sft = r1([
    'run',
    'sft',
    '--preset',
    'tiny',
    '--out',
    pendingRun,
    '--from',
    path.join(out, 'pretrain', 'checkpoint'),
  ]);
  assert.equal(sft.code, 1, sft.stderr);
  assert.ok(sft.stderr.includes(`${pendingFile}: no accepted traces`), sft.stderr);
  assert.match(sft.stderr, /autoAccept/);
  assert.ok(!sft.stderr.includes('    at '), 'no stack trace for bad input');
  assert.ok(!fs.existsSync(path.join(pendingRun, 'sft', 'checkpoint')), 'nothing trained');
});

test('pretrain on a corpus holding one 7 MB document (millions of tokens in one piece) trains', () => {
  const dir = path.join(tmp, 'huge-doc');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'corpus.txt'), 'What is 1 + 2? 3. '.repeat(400_000) + '\n');
  fs.copyFileSync(path.join(ROOT, 'samples', 'eval.jsonl'), path.join(dir, 'eval.jsonl'));
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'samples', 'r1.config.json'), 'utf8'));
  config.stages.pretrain.data = 'corpus.txt';
  fs.writeFileSync(path.join(dir, 'r1.config.json'), JSON.stringify(config));
  const r = r1([
    'run',
    'pretrain',
    '--config',
    path.join(dir, 'r1.config.json'),
    '--preset',
    'tiny',
    '--out',
    path.join(dir, 'run'),
  ]);
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  assert.ok(fs.existsSync(path.join(dir, 'run', 'pretrain', 'summary.json')));
});
