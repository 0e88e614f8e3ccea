// The folder the end-to-end tests open: the shipped samples, an r1.config.json whose `tiny` preset
// makes each stage take seconds, a dataset with a broken record and a review file; and the user
// settings of the isolated VS Code profile.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './codeServer';

/** The tiny preset: tiny model, few steps, frequent logging (so the dashboard gets many points). */
export const TINY = {
  model: 'tiny',
  eval: { limit: 8, maxNewTokens: 32 },
  stages: {
    pretrain: { steps: 100, batchSize: 4, warmupSteps: 5, logEvery: 2, checkpointEvery: 50 },
    'cold-start': { steps: 10, batchSize: 4, warmupSteps: 2, logEvery: 5, checkpointEvery: 10 },
    'reasoning-rl': {
      steps: 2,
      promptsPerStep: 2,
      numGenerations: 4,
      maxCompletionLength: 32,
      warmupSteps: 1,
      evalEvery: 2,
      checkpointEvery: 2,
      oversample: 1,
      dynamicSampling: false,
    },
  },
};

/** A pending review record (spec §3). */
export function reviewRecord(a: number, b: number): Record<string, unknown> {
  const sum = String(a + b);
  return {
    prompt: `What is ${a} + ${b}?`,
    completion: `<think>\n${a}+${b}=${sum}\n</think>\n<answer>${sum}</answer>`,
    answer: sum,
    rewards: { accuracy: 1, format: 1, language: 1 },
    status: 'pending',
    source: { stage: 'rejection-sampling', sample: 0 },
  };
}

export const BROKEN_RECORD_LINE = 2; // 1-based
export const BROKEN_MESSAGE = 'field "completion" must be a string or an array of messages, got number';

export interface Workspace {
  dir: string;
  review: string;
  curated: string;
  broken: string;
  runDir: string;
}

/** Copies samples/ (data and config) into `dir` and adds the test files. */
export function createWorkspace(dir: string): Workspace {
  fs.mkdirSync(dir, { recursive: true });
  const samples = path.join(ROOT, 'samples');
  for (const name of fs.readdirSync(samples)) {
    if (/\.(jsonl|txt)$/.test(name)) fs.copyFileSync(path.join(samples, name), path.join(dir, name));
  }
  const config = JSON.parse(fs.readFileSync(path.join(samples, 'r1.config.json'), 'utf8'));
  config.backend = 'auto';
  config.presets = { ...config.presets, tiny: TINY };
  fs.writeFileSync(path.join(dir, 'r1.config.json'), JSON.stringify(config, null, 2) + '\n');

  const broken = path.join(dir, 'data', 'broken.jsonl');
  fs.mkdirSync(path.dirname(broken), { recursive: true });
  fs.writeFileSync(
    broken,
    [
      '{"prompt":"What is 1 + 1?","completion":"<think>\\n1+1=2\\n</think>\\n<answer>2</answer>"}',
      '{"prompt":"What is 2 + 2?","completion":4}',
      '',
    ].join('\n'),
  );

  const review = path.join(dir, 'review', 'traces.review.jsonl');
  fs.mkdirSync(path.dirname(review), { recursive: true });
  fs.writeFileSync(review, [reviewRecord(12, 30), reviewRecord(5, 7)].map((r) => JSON.stringify(r) + '\n').join(''));

  return {
    dir,
    review,
    curated: path.join(path.dirname(review), 'curated.jsonl'),
    broken,
    runDir: path.join(dir, 'runs', 'default'),
  };
}

/** User settings of the test profile: no welcome page (it swallows the palette), nothing phoning home. */
export function writeUserSettings(userDataDir: string): void {
  const file = path.join(userDataDir, 'User', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.enabled': false,
    'git.enabled': false,
    'files.autoSave': 'off',
    'chat.disableAIFeatures': true,
    'r1.preset': 'tiny',
  };
  fs.writeFileSync(file, JSON.stringify(settings, null, 2) + '\n');
}
