// Rejection sampling's rules on real traces of the sample task, the review records it writes,
// and that it never overwrites a review file it did not finish.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { loadPipelineConfig } from '../../server/src/config/pipelineConfig';
import { validateText } from '../../server/src/data/validate';
import { silentReporter } from '../../server/src/stages/context';
import { reviewLine, runRejectionSampling, traceRewards } from '../../server/src/stages/rejectionSampling';
import { Candidate, failedRule, TraceFilter, TraceRules } from '../../server/src/stages/traceFilter';
import { Tokenizer } from '../../server/src/tokenizer/tokenizer';

const ROOT = path.join(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-rs-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const tok = new Tokenizer();

const RULES: TraceRules = {
  minAccuracy: 1,
  minFormat: 1,
  minLanguage: 1,
  minRepetition: -0.1,
  minTokens: 8,
  maxTokens: 64,
  maxPerPrompt: 2,
};

const PROMPT = 'What is 63 + 611?';
const ANSWER = '674';
const think = (lines: string[]) => `<think>\n${lines.join('\n')}\n</think>`;
const WORKING = ['063+611', '3+1+0=04', '6+1+0=07', '0+6+0=06', '0674'];
const TRACES = {
  correct: `${think(WORKING)}\n<answer>674</answer>`,
  incorrect: `${think(['063+611', '3+1+0=04', '6+1+0=08', '0+6+0=06', '0684'])}\n<answer>684</answer>`,
  misformatted: `${WORKING.join('\n')}\n<answer>674</answer>`,
  brokenTags: `${think(WORKING)}\n<answer>674`,
  mixedLanguage: `${think(['063+611', '个位 3+1+0=04', '6+1+0=07', '0+6+0=06', '0674'])}\n<answer>674</answer>`,
  repetitive: `${think(['063+611', ...new Array<string>(5).fill('3+1+0=04')])}
<answer>674</answer>`,
  overLength: `${think([...WORKING, ...WORKING, ...WORKING])}\n<answer>674</answer>`,
};

/** A candidate scored by the stage's own reward functions. */
async function candidate(completion: string, extra: Partial<Candidate> = {}): Promise<Candidate> {
  const [scores] = await traceRewards().scoreMany([{ completion, answer: ANSWER, task: 'math' }]);
  return {
    promptKey: JSON.stringify(PROMPT),
    completion,
    tokens: tok.encode(completion).length,
    truncated: false,
    rewards: scores.rewards,
    ...extra,
  };
}

test('each rule rejects the trace it is for and keeps a correct, well-formed one', async () => {
  for (const [name, text] of Object.entries(TRACES))
    if (name !== 'overLength') assert.ok(tok.encode(text).length <= 64, `${name} is within the length bounds`);
  assert.equal(failedRule(await candidate(TRACES.correct), RULES), undefined);
  assert.equal(failedRule(await candidate(TRACES.incorrect), RULES), 'accuracy');
  assert.equal(failedRule(await candidate(TRACES.misformatted), RULES), 'format');
  assert.equal(failedRule(await candidate(TRACES.brokenTags), RULES), 'template');
  assert.equal(failedRule(await candidate(TRACES.mixedLanguage), RULES), 'language');
  assert.equal(failedRule(await candidate(TRACES.repetitive), RULES), 'repetition');
  assert.ok(tok.encode(TRACES.overLength).length > 64);
  assert.equal(failedRule(await candidate(TRACES.overLength), RULES), 'length');
  assert.equal(failedRule(await candidate(TRACES.correct, { truncated: true }), RULES), 'truncated');
  assert.equal(failedRule(await candidate('<answer>674</answer>'), RULES), 'length', 'too short');
});

test('loosened thresholds keep what they no longer require, but never a broken template', async () => {
  const loose = { ...RULES, minAccuracy: 0, minFormat: 0 };
  assert.equal(failedRule(await candidate(TRACES.incorrect), loose), undefined);
  assert.equal(failedRule(await candidate(TRACES.misformatted), loose), undefined);
  assert.equal(failedRule(await candidate(TRACES.brokenTags), loose), 'template');
  const noAnswer = { ...(await candidate(TRACES.correct)), rewards: { format: 1, language: 1, repetition: 0 } };
  assert.equal(failedRule(noAnswer, RULES), 'accuracy', 'a trace with nothing to verify against is not kept');
});

test('the filter deduplicates, caps per prompt and counts each rejection under its first failed rule', async () => {
  const filter = new TraceFilter({ ...RULES, maxPerPrompt: 2 });
  const correct = await candidate(TRACES.correct);
  const alt = await candidate(TRACES.correct.replace('0674\n', '674\n'));
  const other = { ...correct, promptKey: JSON.stringify('What is 611 + 63?') };
  const verdicts = [
    filter.consider(correct),
    filter.consider(correct),
    filter.consider(await candidate(TRACES.incorrect)),
    filter.consider(alt),
    filter.consider({ ...alt, completion: alt.completion + ' ' }),
    filter.consider(other),
  ];
  assert.deepEqual(verdicts, [undefined, 'duplicate', 'accuracy', undefined, 'per_prompt_cap', undefined]);
  assert.equal(filter.sampled, 6);
  assert.equal(filter.kept, 3);
  assert.equal(filter.acceptanceRate, 0.5);
  assert.equal(filter.promptsKept, 2);
  assert.equal(filter.rejected.duplicate + filter.rejected.accuracy + filter.rejected.per_prompt_cap, 3);
});

test('review records validate as a review file, pending or auto-accepted, with their source', async () => {
  const c = await candidate(TRACES.correct);
  const source = {
    stage: 'reasoning-rl',
    checkpoint: '/runs/x/reasoning-rl/checkpoint',
    step: 100,
    sample: 3,
    temperature: 0.7,
    top_p: 1,
  };
  const ex = { prompt: PROMPT, answer: ANSWER, task: 'math' as const, line: 1 };
  const lines = [
    reviewLine(ex, c.completion, c.rewards, false, source),
    reviewLine(ex, TRACES.misformatted, c.rewards, true, source),
  ];
  assert.equal(lines[0].status, 'pending');
  assert.equal(lines[1].status, 'accepted');
  const text = lines.map((l) => JSON.stringify(l)).join('\n');
  const result = validateText(text, 'review.jsonl', 'review');
  assert.equal(result.diagnostics.filter((d) => d.severity === 'error').length, 0, JSON.stringify(result.diagnostics));
  assert.deepEqual(lines[0].rewards, { accuracy: 1, format: 1, language: 1, repetition: 0 });
  assert.equal(lines[0].source.sample, 3);
  const general = reviewLine({ prompt: 'Hi?', answer: '', task: 'general', line: 2 }, c.completion, {}, false, source);
  assert.ok(!('answer' in general), 'no empty answer field');
});

test('an existing review file the stage did not finish is never overwritten', async () => {
  const run = path.join(tmp, 'run');
  const file = path.join(run, 'rejection-sampling', 'review.jsonl');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const edited = '{"prompt":"p","completion":"c","rewards":{},"status":"accepted","source":{}}\n';
  fs.writeFileSync(file, edited);
  const config = loadPipelineConfig(path.join(ROOT, 'samples', 'r1.config.json'), 'tiny');
  await assert.rejects(
    () => runRejectionSampling({ config, runDir: run, reporter: silentReporter }),
    (err: Error) => err.name === 'UserError' && err.message.includes(file) && /move it away/.test(err.message),
  );
  assert.equal(fs.readFileSync(file, 'utf8'), edited);
});
